/** `npm run index-sizes`: bytes per call in each index, before and after the slim ones (lib/commands/index-sizes.ts). */
import '../lib/quiet-sdk.ts';
import { main } from '../lib/commands/index-sizes.ts';

process.exitCode = await main();
