// One cold start, in a fresh Node process: load the bundled handler, then serve
// one API Gateway event with it, then the same event again (warm). Plain JavaScript so nothing but Node itself
// runs before the measured import (no TypeScript loader in the way).
// argv: <bundle.mjs> <event.json>; prints one `BENCH_RESULT {...}` line.
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import process from 'node:process';

const [bundlePath, eventPath] = process.argv.slice(2);
const spawnedToMain = performance.now();
const t0 = performance.now();
const mod = await import(pathToFileURL(bundlePath).href);
const t1 = performance.now();
const event = JSON.parse(readFileSync(eventPath, 'utf8'));
const t2 = performance.now();
const res = await mod.handler(event, { awsRequestId: 'bench-cold' });
const t3 = performance.now();
// The same event again, warm: what the first invocation is compared with.
await mod.handler(event, { awsRequestId: 'bench-warm' });
const t4 = performance.now();
process.stdout.write(`\nBENCH_RESULT ${JSON.stringify({
  processToMainMs: spawnedToMain,
  loadMs: t1 - t0,
  firstResponseMs: t3 - t2,
  secondResponseMs: t4 - t3,
  statusCode: res?.statusCode,
  body: typeof res?.body === 'string' ? res.body.slice(0, 300) : undefined,
})}\n`);
process.exit(0);
