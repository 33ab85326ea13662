/** `npm run recordings`: the recordings vendors hold: list, requeue (lib/commands/recordings.ts). */
import { main } from '../lib/commands/recordings.ts';

process.exitCode = await main(process.argv.slice(2));
