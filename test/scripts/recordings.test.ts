import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SQSClient, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { S3Client } from '@aws-sdk/client-s3';
import type { Recording } from '#shared/model';
import type { LambdaHandler } from '#shared/handler';
import { ensureBucketAndTable } from '../../lib/embedded.ts';
import { startLocalQueues, type LocalQueues } from '../../lib/local-queue.ts';
import { eventFromRequest } from '../../lib/event.ts';
import { synthflowRequest, engageVoiceRequest } from '../../lib/requests.ts';
import { freshEngageUii, freshSynthflowCallId } from '../../lib/samples.ts';
import { reindex } from '../../lib/reindex/core.ts';
import { main } from '../../lib/commands/recordings.ts';
import { main as calls } from '../../lib/commands/calls.ts';
import { getItem, getObjectBytes } from '../support/storage.ts';
import { MP3, WAV, eventually, serve, status, startVendor, type Route, type Vendor } from '../recordings/support.ts';

/**
 * `npm run recordings` against real servers: calls stored by the real
 * handlers with no queue configured (as calls stored before copies existed),
 * a real vendor stand-in on 127.0.0.1, the real local queue for the "npm
 * start is running" and --stack paths, s3rver and dynalite. The table and
 * bucket are this file's own, so --missing sees only these calls.
 */

const TOKEN = 'recordings-tool-token';
let vendor: Vendor;
let bucket: string;
let tableName: string;
let callCompleted: LambdaHandler;
let engageVoice: LambdaHandler;
let closedPort: number;

beforeAll(async () => {
  const suffix = randomUUID().slice(0, 8);
  bucket = `recordings-tool-${suffix}`;
  tableName = `recordings-tool-${suffix}`;
  await ensureBucketAndTable({ s3Endpoint: process.env.AWS_ENDPOINT_URL_S3!, dynamoEndpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB! }, bucket, tableName);
  delete process.env.RECORDINGS_QUEUE_URL;
  Object.assign(process.env, { BUCKET_NAME: bucket, TABLE_NAME: tableName, SYNTHFLOW_WEBHOOK_TOKEN: TOKEN, ENGAGE_VOICE_TOKEN: TOKEN, ENGAGE_VOICE_TIMEZONE: 'UTC' });
  callCompleted = (await import('../../functions/call-completed/handler.ts')).handler;
  engageVoice = (await import('../../functions/engage-voice/handler.ts')).handler;
  vendor = await startVendor();
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
});

afterAll(async () => {
  await vendor?.stop();
});

/** The environment a user's shell has beside a running `npm start` (its storage ports), with or without its queue. */
function cliEnv(sqsPort = closedPort, table = tableName): Record<string, string | undefined> {
  return {
    BUCKET_NAME: bucket,
    TABLE_NAME: table,
    LOCAL_S3_PORT: new URL(process.env.AWS_ENDPOINT_URL_S3!).port,
    LOCAL_DYNAMODB_PORT: new URL(process.env.AWS_ENDPOINT_URL_DYNAMODB!).port,
    LOCAL_SQS_PORT: String(sqsPort),
    RECORDINGS_IDLE_TIMEOUT_MS: '1000',
  };
}

async function run(argv: string[], env = cliEnv()) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t) }, env);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function runCalls(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await calls(argv, { out: (t) => out.push(t), err: (t) => err.push(t) }, cliEnv());
  return { code, out: out.join('\n'), err: err.join('\n') };
}

let n = 0;
function link(route: Route, ext = 'wav'): string {
  const p = `/tool/${++n}.${ext}`;
  vendor.route(p, route);
  return `${vendor.url}${p}`;
}

const synthflowPayload = JSON.parse(readFileSync(new URL('../../events/payloads/synthflow/call-completed.json', import.meta.url), 'utf8')) as { call: Record<string, unknown> };
const engagePayload = JSON.parse(readFileSync(new URL('../../events/payloads/engage-voice/agent-termination.json', import.meta.url), 'utf8')) as Record<string, string>;

async function deliverSynthflow(recordingUrl: string): Promise<string> {
  const callId = freshSynthflowCallId();
  const body = Buffer.from(JSON.stringify({ ...synthflowPayload, call: { ...synthflowPayload.call, call_id: callId, recording_url: recordingUrl } }));
  expect((await callCompleted(eventFromRequest(synthflowRequest(body, { token: TOKEN })))).statusCode).toBe(200);
  return callId;
}

async function deliverEngage(segment: string, agent: string): Promise<{ uii: string; sk: string }> {
  const uii = freshEngageUii();
  const res = await engageVoice(eventFromRequest(engageVoiceRequest({ ...engagePayload, uii, recording_url: segment, sess_agent_perspective_recording_url: agent }, 'json', { token: TOKEN })));
  expect(res.statusCode).toBe(200);
  return { uii, sk: `SEG#${(JSON.parse(res.body ?? '{}') as { segment: string }).segment}` };
}

async function recordings(source: string, callId: string, sk: string): Promise<Recording[]> {
  return ((await getItem(source, callId, sk, tableName))?.record as { recordings: Recording[] }).recordings;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface JsonRow { source: string; callId: string; recording: Recording; archive: { state: string; reason?: string } }

async function listed(callId: string): Promise<JsonRow[]> {
  const r = await run(['--json']);
  expect(r.code).toBe(0);
  return (JSON.parse(r.out) as JsonRow[]).filter((row) => row.callId === callId);
}

describe('npm run recordings', () => {
  let sf: string;
  let ev: { uii: string; sk: string };
  let flaky = 0;

  it('lists every recording with its archive status: calls stored with no queue are pending', async () => {
    sf = await deliverSynthflow(link(serve(WAV)));
    ev = await deliverEngage(link((req, res) => (++flaky < 2 ? status(404) : serve(WAV))(req, res, flaky)), link(serve(MP3), 'mp3'));
    expect((await listed(sf)).map((row) => row.archive.state)).toEqual(['pending']);
    expect((await listed(ev.uii)).map((row) => row.archive.state)).toEqual(['pending', 'pending']);
    const text = await run([]);
    expect(text.out).toMatch(new RegExp(`synthflow\\s+${sf}\\s+url-[0-9a-f]{24}\\s+pending \\(not copied yet\\)\\s+link on 127\\.0\\.0\\.1:${vendor.port}`));
    expect(text.err).toMatch(/^3 recording\(s\): 3 pending; 2 call\(s\) started or received in the last 30 day\(s\)/);
  });

  it('--missing without npm start copies them here, byte for byte; a failure says why and the exit code is 1', async () => {
    const first = await run(['--missing']);
    expect(first.code).toBe(1);
    expect(first.out).toContain('failed: http_404');
    expect(first.out).toContain('2 of 3 recording(s) copied by this command (npm start is not running)');
    const [agent, segment] = await recordings('engage-voice', ev.uii, ev.sk);
    expect(segment).toMatchObject({ archiveStatus: 'failed', archiveError: 'http_404', archiveAttempts: 1 });
    expect(segment?.s3Key).toBeUndefined();
    expect(agent).toMatchObject({ contentType: 'audio/mpeg', bytes: MP3.length, sha256: sha256(MP3) });
    expect((await getObjectBytes(agent!.s3Key!, bucket)).equals(MP3)).toBe(true);
    const [s] = await recordings('synthflow', sf, 'CALL');
    expect(s?.s3Key).toMatch(new RegExp(`^audio/synthflow/\\d{4}/\\d{2}/\\d{2}/${sf}/url-[0-9a-f]{24}\\.wav$`));
    expect((await getObjectBytes(s!.s3Key!, bucket)).equals(WAV)).toBe(true);
    const failedRow = (await run([])).out.split('\n').find((l) => l.includes(ev.uii) && l.includes('failed'));
    expect(failedRow).toMatch(/failed: http_404 \(after 1 attempt\)/);
  });

  it('calls show gives each recording\'s copy (key, size, sha256, when) or why not; calls audio writes the vendor copies as the bytes they served', async () => {
    const [agent, segment] = await recordings('engage-voice', ev.uii, ev.sk);
    const show = await runCalls(['show', 'engage-voice', ev.uii]);
    expect(show.code).toBe(0);
    expect(show.out).toContain(`${agent!.id}  audio/mpeg ${MP3.length} bytes  s3://…/${agent!.s3Key}`);
    expect(show.out).toContain(`archived ${agent!.archivedAt!.replace('T', ' ').replace(/\.\d{3}Z$/, 'Z')}, sha256 ${sha256(MP3)}; from ${agent!.sourceUrl}`);
    expect(show.out).toContain(`${segment!.id}  audio/wav  link ${segment!.sourceUrl}`);
    expect(show.out).toContain('failed: http_404 (after 1 attempt) — `npm run recordings -- --missing` copies it');
    const json = JSON.parse((await runCalls(['show', 'engage-voice', ev.uii, '--json'])).out) as { call: { recordings: Recording[] } };
    expect(json.call.recordings.map((r) => [r.archivedAt !== undefined, r.archiveStatus, r.archiveError])).toEqual([[true, undefined, undefined], [false, 'failed', 'http_404']]);

    const dir = mkdtempSync(join(tmpdir(), 'calls-audio-'));
    try {
      const audio = await runCalls(['audio', 'engage-voice', ev.uii, '--out', dir]);
      expect(audio.code).toBe(0);
      expect(audio.out).toContain(`${segment!.id}: not copied yet (failed: http_404 (after 1 attempt)); the vendor serves it at ${segment!.sourceUrl}`);
      const files = readdirSync(dir);
      expect(files).toEqual([`engage-voice_${ev.uii}_01_${agent!.id}.mp3`]);
      expect(readFileSync(join(dir, files[0]!)).equals(MP3)).toBe(true);
      const sfAudio = await runCalls(['audio', 'synthflow', sf, '--out', dir]);
      expect(sfAudio.code).toBe(0);
      const wav = readdirSync(dir).find((f) => f.startsWith('synthflow_'));
      expect(wav).toMatch(/\.wav$/);
      expect(readFileSync(join(dir, wav!)).equals(WAV)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--missing again, once the vendor serves it, copies the rest', async () => {
    const second = await run(['--missing']);
    expect(second.code).toBe(0);
    expect(second.out).toContain('1 of 1 recording(s) copied');
    const again = await recordings('engage-voice', ev.uii, ev.sk);
    expect(again[1]).toMatchObject({ bytes: WAV.length, sha256: sha256(WAV) });
    expect(again[1]?.archiveStatus).toBeUndefined();
    expect((await listed(ev.uii)).map((row) => row.archive.state)).toEqual(['archived', 'archived']);
    expect((await run(['--missing'])).out).toContain('Nothing to queue');
  });

  describe('with npm start running (its queue)', () => {
    let queues: LocalQueues;
    let sqs: SQSClient;
    beforeAll(async () => {
      queues = await startLocalQueues({ host: '127.0.0.1', port: 0, specs: [{ name: 'recordings', visibilityTimeoutSec: 30, deadLetter: { name: 'recordings-dlq', maxReceiveCount: 3 } }] });
      sqs = new SQSClient({ endpoint: queues.endpoint });
    });
    afterAll(async () => {
      sqs?.destroy();
      await queues?.close();
    });
    const port = () => Number(new URL(queues.endpoint).port);

    it('--missing sends each pending or failed recording to the queue (no URL in the message); --redrive moves the dead-letter queue back', async () => {
      const callId = await deliverSynthflow(link(serve(MP3), 'mp3'));
      const [rec] = await recordings('synthflow', callId, 'CALL');
      await sqs.send(new SendMessageCommand({ QueueUrl: queues.url('recordings-dlq'), MessageBody: JSON.stringify({ source: 'synthflow', callId: 'dead-1', sk: 'CALL', recordingId: 'r' }) }));

      const queued = await run(['--missing'], cliEnv(port()));
      expect(queued.code).toBe(0);
      expect(queued.out).toContain(`Queued 1 recording(s) to the queue of the running npm start (${queues.endpoint})`);
      expect(queued.err).toContain('The dead-letter queue still holds 1 message(s)');
      const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queues.url('recordings'), MaxNumberOfMessages: 10, VisibilityTimeout: 0 }));
      expect((got.Messages ?? []).map((m) => JSON.parse(m.Body ?? '{}') as unknown)).toEqual([{ source: 'synthflow', callId, sk: 'CALL', recordingId: rec!.id }]);

      const redriven = await run(['--redrive'], cliEnv(port()));
      expect(redriven.code).toBe(0);
      expect(redriven.out).toContain('Moved 1 message(s) from the dead-letter queue');
      expect(queues.counts('recordings-dlq')).toEqual({ visible: 0, inFlight: 0 });
      expect(queues.counts('recordings').visible).toBe(2);
    });

    it('the running worker then copies what --missing queued', async () => {
      Object.assign(process.env, { AWS_ENDPOINT_URL_SQS: queues.endpoint, RECORDINGS_QUEUE_URL: queues.url('recordings'), RECORDINGS_ALLOW_LOOPBACK: 'true', RECORDINGS_RETRY_DELAYS: '1' });
      const worker = (await import('../../functions/recordings/handler.ts')).handler;
      const callId = await deliverSynthflow(link(serve(WAV)));
      const detach = queues.attach('recordings', worker, { batchSize: 5, maxConcurrency: 2, pollMs: 50 });
      try {
        expect((await run(['--missing', '--source', 'synthflow'], cliEnv(port()))).code).toBe(0);
        const copied = await eventually(async () => (await recordings('synthflow', callId, 'CALL'))[0]?.archivedAt ? true : undefined, 15_000, 'the copy');
        expect(copied).toBe(true);
        expect((await listed(callId)).map((row) => row.archive.state)).toEqual(['archived']);
      } finally {
        await detach();
        delete process.env.RECORDINGS_QUEUE_URL;
      }
    });

    it('--stack: the stack outputs name the table and the queues', async () => {
      const readBody = (req: IncomingMessage) => new Promise<string>((resolve) => {
        let b = '';
        req.on('data', (c: Buffer) => { b += c.toString(); });
        req.on('end', () => resolve(b));
      });
      const outputs: Record<string, string> = { BucketName: bucket, TableName: tableName, RecordingsQueueUrl: queues.url('recordings'), RecordingsDeadLetterQueueUrl: queues.url('recordings-dlq') };
      // CloudFormation's DescribeStacks (query protocol), standing in for a deployed stack.
      const cfn: Server = createServer(async (req, res) => {
        const params = new URLSearchParams(await readBody(req));
        res.setHeader('content-type', 'text/xml');
        const member = (k: string, v: string) => `<member><OutputKey>${k}</OutputKey><OutputValue>${v}</OutputValue></member>`;
        res.end(`<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member>
<StackName>${params.get('StackName')}</StackName><StackStatus>CREATE_COMPLETE</StackStatus><CreationTime>2026-11-20T10:00:00Z</CreationTime>
<Outputs>${Object.entries(outputs).map(([k, v]) => member(k, v)).join('')}</Outputs></member></Stacks></DescribeStacksResult></DescribeStacksResponse>`);
      });
      await new Promise<void>((resolve) => cfn.listen(0, '127.0.0.1', resolve));
      Object.assign(process.env, { AWS_ENDPOINT_URL_CLOUDFORMATION: `http://127.0.0.1:${(cfn.address() as AddressInfo).port}`, AWS_ENDPOINT_URL_SQS: queues.endpoint });
      try {
        const callId = await deliverSynthflow(link(status(500)));
        const before = queues.counts('recordings').visible;
        const sent = await run(['--missing', '--stack', 'VoiceWebhooks'], cliEnv(closedPort));
        expect(sent.code).toBe(0);
        expect(sent.out).toContain('Queued 1 recording(s) to the queue of stack VoiceWebhooks');
        expect(queues.counts('recordings').visible).toBe(before + 1);
        expect((await run(['--stack', 'VoiceWebhooks', '--json'], cliEnv(closedPort))).out).toContain(callId);
        delete outputs.RecordingsQueueUrl;
        const old = await run(['--missing', '--stack', 'VoiceWebhooks'], cliEnv(closedPort));
        expect(old.code).toBe(2);
        expect(old.err).toContain('has no RecordingsQueueUrl/RecordingsDeadLetterQueueUrl outputs');
      } finally {
        delete process.env.AWS_ENDPOINT_URL_CLOUDFORMATION;
        await new Promise((resolve) => cfn.close(resolve));
      }
    });
  });

  it('an index rebuilt from the archive lists the copies as pending; --missing adopts the objects already in the bucket, fetching nothing', async () => {
    const before = await recordings('engage-voice', ev.uii, ev.sk);
    const rebuilt = `${tableName}-rebuilt`;
    await ensureBucketAndTable({ s3Endpoint: process.env.AWS_ENDPOINT_URL_S3!, dynamoEndpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB! }, bucket, rebuilt);
    const report = await reindex({ s3: new S3Client({ forcePathStyle: true }), bucketName: bucket, tableName: rebuilt, settings: { engageTimeZone: 'UTC', defaultPhoneRegion: 'US' }, sources: ['engage-voice'] });
    expect(report.failed).toEqual([]);
    const reindexed = ((await getItem('engage-voice', ev.uii, ev.sk, rebuilt))?.record as { recordings: Recording[] }).recordings;
    expect(reindexed.map((r) => r.s3Key)).toEqual([undefined, undefined]);
    const fetchesBefore = vendor.requests.length;
    const adopted = await run(['--missing'], cliEnv(closedPort, rebuilt));
    expect(adopted.code).toBe(0);
    expect(adopted.out).toContain('2 of 2 recording(s) copied');
    expect(vendor.requests.length).toBe(fetchesBefore);
    const after = ((await getItem('engage-voice', ev.uii, ev.sk, rebuilt))?.record as { recordings: Recording[] }).recordings;
    expect(after.map((r) => [r.s3Key, r.sha256, r.bytes, r.contentType])).toEqual(before.map((r) => [r.s3Key, r.sha256, r.bytes, r.contentType]));
  });

  it('refuses what it cannot do, before touching storage', async () => {
    for (const [argv, message] of [
      [['--missing', '--redrive'], 'separate steps'],
      [['--redrive', '--source', 'synthflow'], 'do not apply'],
      [['--since', '2026-13-45'], '--since must be a UTC day'],
      [['--since', '2999-01-01'], 'in the future'],
      [['--source', 'twilio'], '--source must be one of'],
      [['--limit', '0'], '--limit must be'],
      [['list'], 'unexpected argument'],
    ] as const) {
      const r = await run([...argv]);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toContain(message);
    }
    const noQueue = await run(['--redrive']);
    expect(noQueue.code).toBe(1);
    expect(noQueue.err).toContain('npm start is not running');
  });
});
