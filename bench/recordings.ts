/**
 * `npm run bench:recordings`: the recordings worker, measured locally.
 *
 * 1. Delivery → archived copy: Synthflow and Engage Voice deliveries through
 *    the real handlers, the local queue and event source (as in `npm start`),
 *    recordings served by a local file server; time from the webhook's answer
 *    to the copy being recorded on the index item (seen by the worker's log line).
 * 2. Worker memory on a 100 MB recording: the worker module in a child
 *    process (its own heap and RSS), fed one SQS event; peak RSS before and after.
 *
 * Prints the figures; nothing is asserted. Servers on 127.0.0.1 free ports.
 */
import '../lib/quiet-sdk.ts';
import { mkdtempSync, createReadStream, writeFileSync, openSync, writeSync, closeSync, statSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fork } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { startEmbeddedStorage, sdkEnvironment, ensureBucketAndTable } from '../lib/embedded.ts';
import { startLocalQueues } from '../lib/local-queue.ts';
import { setLogSink } from '#shared/log';
import { synthflowRequest, engageVoiceRequest } from '../lib/requests.ts';
import { eventFromRequest } from '../lib/event.ts';
import { freshEngageUii, freshSynthflowCallId, PAYLOADS_DIR } from '../lib/samples.ts';

const RUNS = Number(process.argv.find((a) => a.startsWith('--runs='))?.slice(7) ?? 20);
const TOKEN = 'bench-token';

function wavHeader(dataBytes: number): Buffer {
  const h = Buffer.alloc(44);
  h.write('RIFF', 0); h.writeUInt32LE(36 + dataBytes, 4); h.write('WAVE', 8); h.write('fmt ', 12);
  h.writeUInt32LE(16, 16); h.writeUInt16LE(1, 20); h.writeUInt16LE(1, 22); h.writeUInt32LE(8000, 24);
  h.writeUInt32LE(16000, 28); h.writeUInt16LE(2, 32); h.writeUInt16LE(16, 34); h.write('data', 36); h.writeUInt32LE(dataBytes, 40);
  return h;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-recordings-'));
  const storage = await startEmbeddedStorage({ dataDir: dir });
  Object.assign(process.env, sdkEnvironment(storage), { BUCKET_NAME: 'bench', TABLE_NAME: 'bench' });
  await ensureBucketAndTable(storage, 'bench', 'bench');

  // A folder served like `python3 -m http.server`: the sample WAV, and a 100 MB WAV on disk.
  const small = readFileSync(join(PAYLOADS_DIR, 'watsonx', 'recording.wav'));
  writeFileSync(join(dir, 'small.wav'), small);
  const bigPath = join(dir, 'big.wav');
  const bigData = 100 * 1000 * 1000 - 44;
  const fd = openSync(bigPath, 'w');
  writeSync(fd, wavHeader(bigData));
  const chunk = Buffer.alloc(1 << 20, 0x11);
  for (let left = bigData; left > 0; left -= chunk.length) writeSync(fd, chunk, 0, Math.min(left, chunk.length));
  closeSync(fd);
  const files = createServer((req, res) => {
    const name = (req.url ?? '/').split('?')[0]!.slice(1);
    const path = join(dir, name.includes('big') ? 'big.wav' : 'small.wav');
    res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': String(statSync(path).size) });
    createReadStream(path).pipe(res);
  });
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', () => r()));
  const filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;

  const queues = await startLocalQueues({ host: '127.0.0.1', port: 0, specs: [{ name: 'recordings', visibilityTimeoutSec: 1800, deadLetter: { name: 'recordings-dlq', maxReceiveCount: 4 } }] });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SQS: queues.endpoint, RECORDINGS_QUEUE_URL: queues.url('recordings'), RECORDINGS_RETRY_DELAYS: '5,10,20',
    RECORDINGS_ALLOW_LOOPBACK: 'true', SYNTHFLOW_WEBHOOK_TOKEN: TOKEN, ENGAGE_VOICE_TOKEN: TOKEN,
  });
  const archivedAt = new Map<string, number>();
  setLogSink((line) => {
    if (!line.includes('"recording archived"')) return;
    const { callId } = JSON.parse(line) as { callId: string };
    archivedAt.set(callId, Date.now());
  });
  const callCompleted = (await import('../functions/call-completed/handler.ts')).handler;
  const engageVoice = (await import('../functions/engage-voice/handler.ts')).handler;
  const worker = (await import('../functions/recordings/handler.ts')).handler;
  const detach = queues.attach('recordings', worker, { batchSize: 5, maxConcurrency: 2 });

  const synthflow = JSON.parse(readFileSync(join(PAYLOADS_DIR, 'synthflow', 'call-completed.json'), 'utf8')) as { call: Record<string, unknown> };
  const engage = JSON.parse(readFileSync(join(PAYLOADS_DIR, 'engage-voice', 'agent-termination.json'), 'utf8')) as Record<string, string>;
  const latencies: Record<string, number[]> = { synthflow: [], 'engage-voice': [] };
  for (let i = 0; i < RUNS; i++) {
    for (const source of ['synthflow', 'engage-voice'] as const) {
      let callId: string;
      if (source === 'synthflow') {
        callId = freshSynthflowCallId();
        const body = Buffer.from(JSON.stringify({ ...synthflow, call: { ...synthflow.call, call_id: callId, recording_url: `${filesUrl}/s-${i}.wav` } }));
        await callCompleted(eventFromRequest(synthflowRequest(body, { token: TOKEN })));
      } else {
        callId = freshEngageUii();
        const fields = { ...engage, uii: callId, recording_url: `${filesUrl}/e-${i}.wav`, sess_agent_perspective_recording_url: '#x#' };
        await engageVoice(eventFromRequest(engageVoiceRequest(fields, 'json', { token: TOKEN })));
      }
      const answered = Date.now();
      while (!archivedAt.has(callId)) await new Promise((r) => setTimeout(r, 5));
      latencies[source]!.push(archivedAt.get(callId)! - answered);
    }
  }
  await detach();
  const stat = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return `median ${s[Math.floor(s.length / 2)]} ms, p90 ${s[Math.floor(s.length * 0.9)]} ms, max ${s[s.length - 1]} ms (n=${s.length})`;
  };
  console.log(`delivery answered → archived copy recorded (16 KB WAV, local event source polling every 250 ms):`);
  for (const [source, xs] of Object.entries(latencies)) console.log(`  ${source}: ${stat(xs)}`);

  // Memory: the worker alone, in a child process, copying the 100 MB file.
  const callId = freshEngageUii();
  await engageVoice(eventFromRequest(engageVoiceRequest({ ...engage, uii: callId, recording_url: `${filesUrl}/big.wav`, sess_agent_perspective_recording_url: '#x#' }, 'json', { token: TOKEN })));
  // Take the message the delivery queued and give it to the child as an SQS event.
  const { SQSClient, ReceiveMessageCommand } = await import('@aws-sdk/client-sqs');
  const sqs = new SQSClient({});
  const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queues.url('recordings'), MaxNumberOfMessages: 1, MessageSystemAttributeNames: ['All'] }));
  const m = got.Messages![0]!;
  const event = { Records: [{ messageId: m.MessageId, receiptHandle: m.ReceiptHandle, body: m.Body, attributes: m.Attributes, messageAttributes: {}, md5OfBody: m.MD5OfBody, eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:recordings', awsRegion: 'us-east-1' }] };
  const child = fork(new URL('./recordings-child.ts', import.meta.url), [], { execArgv: ['--import', 'tsx'], env: { ...process.env, RECORDINGS_MAX_BYTES: String(512 * 1024 * 1024) } });
  await new Promise((resolve) => child.once('message', resolve));
  child.send(event);
  const result = await new Promise<{ baseline: number; peak: number; ms: number; failures: number; heapPeak: number; buffersPeak: number }>((resolve) => child.once('message', (r) => resolve(r as never)));
  child.kill();
  console.log(`worker copying a 100 MB WAV (child process, one SQS event): ${result.failures === 0 ? 'archived' : 'FAILED'} in ${result.ms} ms;`
    + ` max RSS ${Math.round(result.baseline / 1e6)} MB once loaded → ${Math.round(result.peak / 1e6)} MB after the copy (+${Math.round((result.peak - result.baseline) / 1e6)} MB); JS heap peak ${Math.round(result.heapPeak / 1e6)} MB, buffers peak ${Math.round(result.buffersPeak / 1e6)} MB`);
  await queues.close();
  files.close();
  await storage.stop();
  process.exit(0);
}

main().catch((err: unknown) => { console.error(err); process.exit(1); });
