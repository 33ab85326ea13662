/** `npm run rotate`: start or finish the rotation of a secret or token (lib/commands/rotate.ts). */
import { main } from '../lib/commands/rotate.ts';

process.exitCode = await main(process.argv.slice(2));
