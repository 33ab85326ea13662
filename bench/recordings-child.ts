/** Child of bench/recordings.ts: the worker module alone, so its memory is measured by itself. */
import '../lib/quiet-sdk.ts';
import type { SQSEvent } from 'aws-lambda';
import { setLogSink } from '#shared/log';

setLogSink(() => {});
const { handler } = await import('../functions/recordings/handler.ts');
let heapPeak = 0;
let buffersPeak = 0;
const sample = setInterval(() => {
  const m = process.memoryUsage();
  heapPeak = Math.max(heapPeak, m.heapUsed);
  buffersPeak = Math.max(buffersPeak, m.arrayBuffers);
}, 20);
const baseline = process.resourceUsage().maxRSS * 1024;
process.once('message', (event) => {
  const started = Date.now();
  handler(event as SQSEvent).then((r) => {
    clearInterval(sample);
    process.send?.({ baseline, peak: process.resourceUsage().maxRSS * 1024, ms: Date.now() - started, failures: r.batchItemFailures.length, heapPeak, buffersPeak });
  }, (err: unknown) => {
    process.send?.({ baseline, peak: 0, ms: 0, failures: 1, heapPeak, error: String(err) });
  });
});
process.send?.('ready');
