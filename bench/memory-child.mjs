// Peak RSS of one request, in a fresh Node process started with --expose-gc:
// load the bundled handler, warm it with a small event, hold the big event as
// the Lambda runtime would (parsed), collect garbage, reset the kernel's
// high-water mark (/proc/self/clear_refs "5"), handle the big event, and read
// the high-water mark back (VmHWM). argv: <bundle.mjs> <warm.json> <big.json>.
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import process from 'node:process';

const [bundlePath, warmPath, bigPath] = process.argv.slice(2);
const kb = (field) => {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
};
const collect = () => { for (let i = 0; i < 4; i++) globalThis.gc?.(); };

const mod = await import(pathToFileURL(bundlePath).href);
const warm = await mod.handler(JSON.parse(readFileSync(warmPath, 'utf8')), { awsRequestId: 'bench-warm' });
collect();
const beforeEvent = kb('VmRSS');
const event = JSON.parse(readFileSync(bigPath, 'utf8'));
collect();
const idle = kb('VmRSS');
let hwmReset = true;
try { writeFileSync('/proc/self/clear_refs', '5'); } catch { hwmReset = false; }
const res = await mod.handler(event, { awsRequestId: 'bench-big' });
const peak = kb('VmHWM');
process.stdout.write(`\nBENCH_RESULT ${JSON.stringify({
  beforeEventRss: beforeEvent, idleRss: idle, peakRss: peak, hwmReset,
  warmStatus: warm?.statusCode, statusCode: res?.statusCode,
  body: typeof res?.body === 'string' ? res.body.slice(0, 300) : undefined,
})}\n`);
process.exit(0);
