/** `npm run calls`: read calls back (list, show, audio, export, forget, hold) (lib/commands/calls.ts). */
import { main } from '../lib/commands/calls.ts';

process.exitCode = await main(process.argv.slice(2));
