/** `npm run urls`: the deployed stack's URLs and what to paste where (lib/commands/urls.ts). */
import { main } from '../lib/commands/urls.ts';

process.exitCode = await main(process.argv.slice(2));
