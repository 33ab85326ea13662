import { pathToFileURL } from 'node:url';
import { writeEvents } from '../lib/sam-events.ts';

/** `npm run events`: writes events/*.json (lib/sam-events.ts) for `sam local invoke` and `npm run invoke`. */

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeEvents().then((files) => {
    for (const f of files) process.stdout.write(`wrote ${f}\n`);
    process.stdout.write('The watsonx events carry a JWT without exp, signed with the fake secret of events/env.json: never configure that secret in a deployment.\n');
  }, (err: unknown) => {
    process.stderr.write(`events failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
