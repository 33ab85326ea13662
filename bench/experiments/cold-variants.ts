/**
 * Cold module-load of bundles side by side, interleaved, N fresh processes
 * each (bench/cold.ts), for comparing two builds of the same function:
 * `npx tsx bench/experiments/cold-variants.ts <runs> <name=bundle.mjs>...`
 * The first bundle is the reference for the ratios.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { coldStarts } from '../cold.ts';
import { LAMBDA_NODE_OPTIONS } from '../bundle.ts';
import { volubileEvent } from '../lib/events.ts';
import { fmtMs, fmtRatio } from '../lib/stats.ts';

async function main(): Promise<void> {
  const [runsArg = '15', ...pairs] = process.argv.slice(2);
  const subjects = pairs.map((p) => {
    const [name = p, file = p] = p.split('=');
    return { name, bundleFile: file, event: volubileEvent() };
  });
  const env = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_SDK_JS_SUPPRESS_NODEJS_VERSION_WARNING: '1', BUCKET_NAME: 'b', TABLE_NAME: 't' };
  const out = await coldStarts(subjects, Number(runsArg), env, mkdtempSync(join(tmpdir(), 'cold-variants-')), LAMBDA_NODE_OPTIONS);
  const base = out[0]?.loadMs ?? Number.NaN;
  for (const r of out) console.log(r.name.padEnd(28), fmtMs(r.loadMs).padStart(9), fmtRatio(r.loadMs / base));
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
