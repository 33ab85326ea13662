/** `npm run reindex`: rebuild the index from the archive (lib/commands/reindex.ts). */
import { main } from '../lib/commands/reindex.ts';

process.exitCode = await main(process.argv.slice(2));
