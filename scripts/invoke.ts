/** `npm run invoke`: run one handler on an event file, Docker-free (lib/commands/invoke.ts). */
import { main } from '../lib/commands/invoke.ts';

process.exit(await main(process.argv.slice(2)));
