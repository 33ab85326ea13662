import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { startLocalQueues, type LocalQueues } from '../../lib/local-queue.ts';
import type { LambdaHandler } from '#shared/handler';
import { synthflowRequest, engageVoiceRequest, vapiRequest } from '../../lib/requests.ts';
import { eventFromRequest } from '../../lib/event.ts';
import { freshEngageUii, freshSynthflowCallId } from '../../lib/samples.ts';
import { getObjectBytes, headObject, listKeys } from '../support/storage.ts';
import {
  MP3, WAV, after, basicOnly, bearerOnly, captureLogs, eventually, recordingOf, redirect, serve, startVendor, status,
  type Route, type Vendor,
} from './support.ts';

/**
 * The whole flow against real servers: a delivery through the real handler,
 * the real queue seam (SQS SDK → local queue), the local event source, the
 * real worker module, real vendor stand-ins on 127.0.0.1, real s3rver and
 * dynalite. Retries are 1 s apart here (3 attempts), the cap 64 KiB and the
 * idle timeout 500 ms, so every case ends within seconds.
 */

const TOKEN = 'recordings-test-token';
const SF_KEY = 'sf-api-key-for-tests';
const VAPI_KEY = 'vapi-private-key-for-tests';
const REC_AUTH = 'rec-user:rec-pass';
const CAP = 64 * 1024;

let vendor: Vendor;
let other: Vendor;
let queues: LocalQueues;
let callCompleted: LambdaHandler;
let engageVoice: LambdaHandler;
let detach: () => Promise<void>;
const logs = captureLogs();

beforeAll(async () => {
  vendor = await startVendor();
  other = await startVendor();
  queues = await startLocalQueues({
    host: '127.0.0.1',
    port: 0,
    specs: [{ name: 'recordings', visibilityTimeoutSec: 30, deadLetter: { name: 'recordings-dlq', maxReceiveCount: 3 } }],
  });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SQS: queues.endpoint,
    RECORDINGS_QUEUE_URL: queues.url('recordings'),
    RECORDINGS_RETRY_DELAYS: '1,1',
    RECORDINGS_ALLOW_LOOPBACK: 'true',
    RECORDINGS_IDLE_TIMEOUT_MS: '500',
    RECORDINGS_CONNECT_TIMEOUT_MS: '1000',
    RECORDINGS_MAX_BYTES: String(CAP),
    SYNTHFLOW_API_URL: `${vendor.url}/v2`,
    SYNTHFLOW_API_KEY: SF_KEY,
    VAPI_API_URL: vendor.url,
    VAPI_API_KEY: VAPI_KEY,
    VAPI_WEBHOOK_TOKEN: TOKEN,
    ENGAGE_VOICE_RECORDING_AUTH: REC_AUTH,
    SYNTHFLOW_WEBHOOK_TOKEN: TOKEN,
    ENGAGE_VOICE_TOKEN: TOKEN,
  });
  callCompleted = (await import('../../functions/call-completed/handler.ts')).handler;
  engageVoice = (await import('../../functions/engage-voice/handler.ts')).handler;
  const worker = (await import('../../functions/recordings/handler.ts')).handler;
  detach = queues.attach('recordings', worker, { batchSize: 5, maxConcurrency: 2, pollMs: 50 });
});

afterAll(async () => {
  await detach?.();
  await queues?.close();
  await vendor?.stop();
  await other?.stop();
});

const synthflowPayload = JSON.parse(readFileSync(new URL('../../events/payloads/synthflow/call-completed.json', import.meta.url), 'utf8')) as { call: Record<string, unknown> };
const vapiPayload = JSON.parse(readFileSync(new URL('../../events/payloads/vapi/end-of-call-report.json', import.meta.url), 'utf8')) as { message: Record<string, unknown> & { call: Record<string, unknown> } };
const engagePayload = JSON.parse(readFileSync(new URL('../../events/payloads/engage-voice/agent-termination.json', import.meta.url), 'utf8')) as Record<string, string>;

async function deliverSynthflow(recordingUrl: string | undefined, callId = freshSynthflowCallId()) {
  const body = Buffer.from(JSON.stringify({ ...synthflowPayload, call: { ...synthflowPayload.call, call_id: callId, recording_url: recordingUrl } }));
  const res = await callCompleted(eventFromRequest(synthflowRequest(body, { token: TOKEN })));
  expect(res.statusCode).toBe(200);
  return { callId, sk: 'CALL' };
}

async function deliverSynthflowCall(call: Record<string, unknown>, callId = freshSynthflowCallId()) {
  const body = Buffer.from(JSON.stringify({ ...synthflowPayload, call: { ...synthflowPayload.call, call_id: callId, ...call } }));
  const res = await callCompleted(eventFromRequest(synthflowRequest(body, { token: TOKEN })));
  expect(res.statusCode).toBe(200);
  return { callId, sk: 'CALL' };
}

/** A Vapi end-of-call report whose mono and stereo recordings are at the given URLs. */
async function deliverVapi(mono: string, stereo: string, callId = randomUUID()) {
  const m = vapiPayload.message;
  const body = Buffer.from(JSON.stringify({
    message: {
      ...m,
      call: { ...m.call, id: callId },
      artifact: { recording: { stereoUrl: stereo, mono: { combinedUrl: mono } } },
    },
  }));
  const res = await callCompleted(eventFromRequest(vapiRequest(body, { token: TOKEN })));
  expect(res.statusCode).toBe(200);
  return { callId, sk: 'CALL' };
}

async function deliverEngage(fields: Record<string, string>) {
  const uii = freshEngageUii();
  const res = await engageVoice(eventFromRequest(engageVoiceRequest({ ...engagePayload, ...fields, uii }, 'json', { token: TOKEN })));
  expect(res.statusCode).toBe(200);
  const segment = (JSON.parse(res.body ?? '{}') as { segment: string }).segment;
  return { callId: uii, sk: `SEG#${segment}` };
}

/** A fresh path on a vendor, served by `route`. */
let n = 0;
function path(v: Vendor, ext: string, route: Route): string {
  const p = `/rec/${++n}-${Date.now()}.${ext}`;
  v.route(p, route);
  return `${v.url}${p}`;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function settled(source: string, callId: string, sk: string, index = 0) {
  return eventually(async () => {
    const r = await recordingOf(source, callId, sk, index);
    return r?.archivedAt !== undefined || r?.archiveStatus === 'failed' ? r : undefined;
  }, 20_000, `recording ${index} of ${callId}`);
}

function metricsFor(name: string, callId: string) {
  return logs.metrics(name).filter((m) => m.callId === callId);
}

async function expectArchived(source: string, callId: string, sk: string, bytes: Buffer, type: string, ext: string, index = 0) {
  const r = await settled(source, callId, sk, index);
  expect(r.archiveStatus).toBeUndefined();
  expect(r.s3Key).toMatch(new RegExp(`^audio/${source}/\\d{4}/\\d{2}/\\d{2}/${callId}/${r.id}\\.${ext}$`));
  expect(r).toMatchObject({ bytes: bytes.length, sha256: sha256(bytes), contentType: type });
  if (!r.viaApi) expect(r.sourceUrl).toMatch(/^http:\/\/127\.0\.0\.1:/);
  expect(Date.parse(r.archivedAt!)).toBeGreaterThan(Date.now() - 60_000);
  expect((await getObjectBytes(r.s3Key!)).equals(bytes)).toBe(true);
  expect((await headObject(r.s3Key!)).ContentType).toBe(type);
  expect(metricsFor('RecordingArchived', callId).length).toBeGreaterThanOrEqual(1);
  return r;
}

async function expectFailed(source: string, callId: string, sk: string, reason: string) {
  const r = await settled(source, callId, sk);
  expect(r).toMatchObject({ archiveStatus: 'failed', archiveError: reason });
  expect(r.s3Key).toBeUndefined();
  expect(await listKeys(`audio/${source}/`).then((keys) => keys.filter((k) => k.includes(`/${callId}/`)))).toEqual([]);
  expect(metricsFor('RecordingFailed', callId).map((m) => m.Reason)).toEqual([reason]);
  return r;
}

describe('recordings: copied into the bucket after the delivery is stored', () => {
  it('served once: a Synthflow WAV is copied byte for byte; a redelivery fetches nothing more and writes one object', async () => {
    const url = path(vendor, 'wav', serve(WAV, 'application/octet-stream'));
    const { callId, sk } = await deliverSynthflow(url);
    const r = await expectArchived('synthflow', callId, sk, WAV, 'audio/wav', 'wav');
    const fetches = () => vendor.requests.filter((q) => url.endsWith(q.path)).length;
    expect(fetches()).toBe(1);
    await deliverSynthflow(url, callId);
    await new Promise((res) => setTimeout(res, 1_500));
    expect(fetches()).toBe(1);
    expect(await listKeys(`audio/synthflow/`).then((k) => k.filter((x) => x.includes(`/${callId}/`)))).toEqual([r.s3Key]);
  });

  it('404 then 200 (Engage media still processing): retried, then copied; the MP3 type comes from the bytes', async () => {
    const url = path(vendor, 'wav', after(2, status(404), serve(MP3, 'audio/wav')));
    const { callId, sk } = await deliverEngage({ recording_url: url, sess_agent_perspective_recording_url: '#sess_agent_perspective_recording_url#' });
    const r = await expectArchived('engage-voice', callId, sk, MP3, 'audio/mpeg', 'mp3');
    expect(r.s3Key).toMatch(/\.mp3$/);
    expect(vendor.requests.filter((q) => url.endsWith(q.path))).toHaveLength(2);
  });

  it('500 then 200: retried, then copied', async () => {
    const url = path(vendor, 'wav', after(2, status(500), serve(WAV)));
    const { callId, sk } = await deliverSynthflow(url);
    await expectArchived('synthflow', callId, sk, WAV, 'audio/wav', 'wav');
  });

  it('Basic auth required: both Engage recordings (agent perspective and segment) are copied, each its own object', async () => {
    const segment = path(vendor, 'wav', basicOnly(REC_AUTH, serve(WAV)));
    const agent = path(vendor, 'mp3', basicOnly(REC_AUTH, serve(MP3)));
    const { callId, sk } = await deliverEngage({ recording_url: segment, sess_agent_perspective_recording_url: agent });
    const a = await expectArchived('engage-voice', callId, sk, MP3, 'audio/mpeg', 'mp3', 0);
    const s = await expectArchived('engage-voice', callId, sk, WAV, 'audio/wav', 'wav', 1);
    expect(a.s3Key).not.toBe(s.s3Key);
    const sent = vendor.requests.filter((q) => segment.endsWith(q.path) || agent.endsWith(q.path));
    expect(sent.length).toBeGreaterThanOrEqual(2);
    for (const q of sent) expect(q.authorization).toBe(`Basic ${Buffer.from(REC_AUTH).toString('base64')}`);
  });

  it('Synthflow link expired: "Get a recording" with the API key, 302 to a signed URL on another host that never sees the key', async () => {
    const callId = freshSynthflowCallId();
    const expired = path(vendor, 'wav', status(403, '<Error>Request has expired</Error>'));
    const signed = path(other, 'mp3', serve(MP3, 'binary/octet-stream'));
    vendor.route(`/v2/calls/${callId}/recording`, bearerOnly(SF_KEY, redirect(`${signed}?X-Signature=abc`)));
    await deliverSynthflow(expired, callId);
    await expectArchived('synthflow', callId, 'CALL', MP3, 'audio/mpeg', 'mp3');
    expect(vendor.requests.find((q) => q.path === `/v2/calls/${callId}/recording`)?.authorization).toBe(`Bearer ${SF_KEY}`);
    const atSigned = other.requests.filter((q) => signed.endsWith(q.path));
    expect(atSigned).toHaveLength(1);
    expect(atSigned[0]?.authorization).toBeUndefined();
    expect(vendor.requests.find((q) => expired.endsWith(q.path))?.authorization).toBeUndefined();
  });

  it('Synthflow delivery without recording_url: with the API key, "Get a recording" is queued and copied', async () => {
    const callId = freshSynthflowCallId();
    const signed = path(other, 'mp3', serve(MP3));
    vendor.route(`/v2/calls/${callId}/recording`, bearerOnly(SF_KEY, redirect(signed)));
    await deliverSynthflowCall({ recording_url: undefined, duration: 42 }, callId);
    const r = await expectArchived('synthflow', callId, 'CALL', MP3, 'audio/mpeg', 'mp3');
    expect(r).toMatchObject({ id: 'call-recording', viaApi: true });
    expect(r.sourceUrl).toBeUndefined();
    expect(other.requests.filter((q) => signed.endsWith(q.path)).map((q) => q.authorization)).toEqual([undefined]);
  });

  it('Synthflow call that never connected (no recording_url, duration 0): no recording, nothing queued', async () => {
    const callId = freshSynthflowCallId();
    vendor.route(`/v2/calls/${callId}/recording`, serve(MP3));
    await deliverSynthflowCall({ recording_url: undefined, duration: 0, status: 'no-answer' }, callId);
    expect(await recordingOf('synthflow', callId, 'CALL')).toBeUndefined();
    await new Promise((res) => setTimeout(res, 1_000));
    expect(vendor.requests.filter((q) => q.path === `/v2/calls/${callId}/recording`)).toEqual([]);
  });

  it('Vapi: a stereo link served directly (no key sent); a mono link refused by private storage goes through GET /call/{id}/mono-recording with the private key, 302 to a signed URL on another host', async () => {
    const callId = randomUUID();
    const privateMono = path(vendor, 'wav', status(403, '<Error><Code>AccessDenied</Code></Error>'));
    const stereo = path(vendor, 'wav', serve(WAV));
    const signed = path(other, 'mp3', serve(MP3, 'application/octet-stream'));
    vendor.route(`/call/${callId}/mono-recording`, bearerOnly(VAPI_KEY, redirect(`${signed}?sig=1`)));
    await deliverVapi(privateMono, stereo, callId);
    const mono = await expectArchived('vapi', callId, 'CALL', MP3, 'audio/mpeg', 'mp3', 0);
    const st = await expectArchived('vapi', callId, 'CALL', WAV, 'audio/wav', 'wav', 1);
    expect([mono.id, st.id]).toEqual(['mono', 'stereo']);
    expect(vendor.requests.find((q) => q.path === `/call/${callId}/mono-recording`)?.authorization).toBe(`Bearer ${VAPI_KEY}`);
    for (const q of vendor.requests.filter((x) => privateMono.endsWith(x.path) || stereo.endsWith(x.path))) expect(q.authorization).toBeUndefined();
    expect(other.requests.filter((q) => signed.endsWith(q.path)).map((q) => q.authorization)).toEqual([undefined]);
    expect(vendor.requests.filter((q) => q.path === `/call/${callId}/stereo-recording`)).toEqual([]);
  });

  it('a redirect to another host: the Engage Basic credentials are dropped there', async () => {
    const target = path(other, 'wav', serve(WAV));
    const start = path(vendor, 'wav', basicOnly(REC_AUTH, redirect(target, 307)));
    const { callId, sk } = await deliverEngage({ recording_url: start, sess_agent_perspective_recording_url: '#x#' });
    await expectArchived('engage-voice', callId, sk, WAV, 'audio/wav', 'wav');
    expect(vendor.requests.find((q) => start.endsWith(q.path))?.authorization).toBeDefined();
    const there = other.requests.filter((q) => target.endsWith(q.path));
    expect(there).toHaveLength(1);
    expect(there[0]?.authorization).toBeUndefined();
  });

  it('a redirect to the link-local metadata address is refused (locally too), once, without retries', async () => {
    const url = path(vendor, 'wav', redirect('http://169.254.169.254/latest/meta-data/'));
    const { callId, sk } = await deliverSynthflow(url);
    const r = await expectFailed('synthflow', callId, sk, 'refused_address');
    expect(r.archiveAttempts).toBe(1);
    expect(vendor.requests.filter((q) => url.endsWith(q.path))).toHaveLength(1);
  });

  it('a redirect to a private address is refused locally too (only loopback is let through)', async () => {
    const url = path(vendor, 'wav', redirect('http://10.11.12.13/rec.wav'));
    const { callId, sk } = await deliverSynthflow(url);
    await expectFailed('synthflow', callId, sk, 'refused_address');
  });

  it('an HTML page served with 200 is not a recording: retried, then failed, and the message is in the dead-letter queue', async () => {
    const page = Buffer.from('<!DOCTYPE html><html><body>Recording not ready</body></html>');
    const url = path(vendor, 'wav', serve(page, 'audio/wav'));
    const dlqBefore = queues.counts('recordings-dlq').visible;
    const { callId, sk } = await deliverSynthflow(url);
    const r = await expectFailed('synthflow', callId, sk, 'html_page');
    expect(r.archiveAttempts).toBe(3);
    expect(vendor.requests.filter((q) => url.endsWith(q.path))).toHaveLength(3);
    await eventually(async () => (queues.counts('recordings-dlq').visible > dlqBefore ? true : undefined), 5_000, 'the dead-letter queue');
  });

  it('a JSON error served with 200 is not a recording either', async () => {
    const url = path(vendor, 'mp3', serve(Buffer.from('{"error":"expired"}'), 'audio/mpeg'));
    const { callId, sk } = await deliverSynthflow(url);
    await expectFailed('synthflow', callId, sk, 'json_page');
  });

  it('a body shorter than its Content-Length: no object, then a full body on a later attempt is copied', async () => {
    const truncated: Route = (_req, res) => {
      res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': String(WAV.length) });
      res.write(WAV.subarray(0, 4_000), () => res.socket?.destroy());
    };
    const url = path(vendor, 'wav', after(3, truncated, serve(WAV)));
    const { callId, sk } = await deliverSynthflow(url);
    await eventually(async () => ((await recordingOf('synthflow', callId, sk))?.archiveError === 'truncated_body' ? true : undefined), 10_000, 'a truncated attempt');
    expect(await listKeys('audio/synthflow/').then((k) => k.filter((x) => x.includes(`/${callId}/`)))).toEqual([]);
    await expectArchived('synthflow', callId, sk, WAV, 'audio/wav', 'wav');
  });

  it('always truncated: failed as truncated_body, nothing half-written', async () => {
    const url = path(vendor, 'wav', (_req, res) => {
      res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': String(WAV.length) });
      res.write(WAV.subarray(0, 4_000), () => res.socket?.destroy());
    });
    const { callId, sk } = await deliverSynthflow(url);
    await expectFailed('synthflow', callId, sk, 'truncated_body');
  });

  it('a Content-Length over the cap is refused before the body is read, without retries', async () => {
    const big = Buffer.concat([WAV, Buffer.alloc(CAP)]);
    const url = path(vendor, 'wav', serve(big));
    const { callId, sk } = await deliverSynthflow(url);
    const r = await expectFailed('synthflow', callId, sk, 'too_large');
    expect(r.archiveAttempts).toBe(1);
  });

  it('a body that grows past the cap without a Content-Length is cut off: failed, nothing half-written', async () => {
    const url = path(vendor, 'wav', (_req, res) => {
      res.writeHead(200, { 'content-type': 'audio/wav' });
      res.write(WAV);
      res.end(Buffer.alloc(CAP));
    });
    const { callId, sk } = await deliverSynthflow(url);
    await expectFailed('synthflow', callId, sk, 'too_large');
  });

  it('a slow drip past the idle timeout: each attempt cut off, then failed as idle_timeout, nothing half-written', async () => {
    const url = path(vendor, 'wav', (_req, res) => {
      res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': String(WAV.length) });
      res.write(WAV.subarray(0, 1_000));
      // …and nothing more: the socket stays open and silent.
    });
    const { callId, sk } = await deliverSynthflow(url);
    await expectFailed('synthflow', callId, sk, 'idle_timeout');
  });

  it('a vendor that is down: retried, then failed; once it is back, a re-queued message copies it', async () => {
    const down = await startVendor();
    const port = down.port;
    const p = path(down, 'wav', serve(WAV));
    await down.stop();
    const { callId, sk } = await deliverEngage({ recording_url: p, sess_agent_perspective_recording_url: '#x#' });
    await expectFailed('engage-voice', callId, sk, 'network_error');
    const back = await startVendor(port);
    back.route(new URL(p).pathname, serve(WAV));
    const { createQueueClient, sendRecordingMessages } = await import('#shared/recording-queue');
    await sendRecordingMessages(createQueueClient(), queues.url('recordings'), [{ source: 'engage-voice', callId, sk, recordingId: (await recordingOf('engage-voice', callId, sk))!.id }]);
    await eventually(async () => ((await recordingOf('engage-voice', callId, sk))?.archivedAt ? true : undefined), 10_000, 'the re-queued copy');
    await expectArchived('engage-voice', callId, sk, WAV, 'audio/wav', 'wav');
    await back.stop();
  });

  it('a message that reaches the worker before its index item is written is looked at again, not dropped, and the recording is copied', async () => {
    // The webhook queues beside its index write, so this order is real; here it is forced: the message first.
    const link = path(vendor, 'wav', serve(WAV));
    const callId = freshSynthflowCallId();
    const recordingId = `url-${sha256(Buffer.from(new URL(link).href)).slice(0, 24)}`;
    const { createQueueClient, sendRecordingMessages } = await import('#shared/recording-queue');
    await sendRecordingMessages(createQueueClient(), queues.url('recordings'), [{ source: 'synthflow', callId, sk: 'CALL', recordingId }]);
    const early = await eventually(async () => logs.lines.find((l) => l.callId === callId && l.message === 'recording not in the index yet; looking again'), 10_000, 'the first look');
    expect(early).toMatchObject({ attempt: 1, why: 'item_missing', seconds: 1 });
    await deliverSynthflow(link, callId);
    await expectArchived('synthflow', callId, 'CALL', WAV, 'audio/wav', 'wav');
    // The early message came back for its second look (archived it, or found the delivery's own message had).
    const second = await eventually(async () => logs.lines.find((l) => l.correlation_id === early.correlation_id && l.attempt === 2), 10_000, 'the second look');
    expect(['recording archived', 'recording already archived']).toContain(second.message);
  });

  it('a message whose index item never appears is let go after its second look, not sent to the dead-letter queue', async () => {
    const callId = freshSynthflowCallId();
    const deadBefore = queues.counts('recordings-dlq');
    const { createQueueClient, sendRecordingMessages } = await import('#shared/recording-queue');
    await sendRecordingMessages(createQueueClient(), queues.url('recordings'), [{ source: 'synthflow', callId, sk: 'CALL', recordingId: 'url-000000000000000000000000' }]);
    const last = await eventually(async () => logs.lines.find((l) => l.callId === callId && l.message === 'recording no longer in the index'), 10_000, 'the second look');
    expect(last).toMatchObject({ attempt: 2, why: 'item_missing' });
    expect(logs.lines.filter((l) => l.callId === callId && l.message === 'recording no longer in the index')).toHaveLength(1);
    expect(queues.counts('recordings-dlq')).toEqual(deadBefore);
  });

  it('the webhook answer does not depend on the queue: with the queue gone the delivery is still stored (and the miss is counted)', async () => {
    // The SDK endpoint is the local queue; a queue URL it does not know is refused like a deleted queue.
    const { createQueueClient, queueRecordings } = await import('#shared/recording-queue');
    const { Logger } = await import('#shared/log');
    const count = await queueRecordings(createQueueClient(), `${queues.endpoint}/000000000000/deleted`,
      { source: 'synthflow', callId: 'c1', recordings: [{ id: 'r1', sourceUrl: 'https://example.com/a.wav', contentType: 'audio/wav' }] }, 'CALL', new Logger({}));
    expect(count).toBe(0);
    expect(logs.metrics('RecordingEnqueueFailed').length).toBeGreaterThanOrEqual(1);
  });
});
