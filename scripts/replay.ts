/** `npm run replay`: send a sample delivery to a server (lib/commands/replay.ts). */
import { main } from '../lib/commands/replay.ts';

process.exit(await main(process.argv.slice(2)));
