/** `npm run loadtest`: load test against a local server on loopback (lib/commands/loadtest.ts). */
import { main } from '../lib/commands/loadtest.ts';

process.exitCode = await main(process.argv.slice(2));
