import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { SignJWT } from 'jose';
import { MAX_BODY_BYTES } from '#shared/request';

/**
 * API Gateway HTTP API v2.0 events for every source, signed with the bench's
 * own clearly fake secrets. The JSON bodies come from the vendor fixtures in
 * events/payloads/ when they exist (so the handlers see real vendor shapes),
 * with a small built-in stand-in otherwise; the watsonx recordings are
 * synthesized at the sizes the benchmark needs (8,000 bytes per second).
 */

export const BENCH_SECRETS = {
  WATSONX_AUDIO_SECRET: 'bench-watsonx-secret-not-a-real-secret-0123456789',
  VOLUBILE_WEBHOOK_SECRET: 'bench-volubile-secret-not-real',
  VOLUBILE_WEBHOOK_TOKEN: 'bench-volubile-token',
  SYNTHFLOW_WEBHOOK_SECRET: 'bench-synthflow-secret-not-real',
  SYNTHFLOW_WEBHOOK_TOKEN: 'bench-synthflow-token',
  ENGAGE_VOICE_TOKEN: 'bench-engage-token',
  ENGAGE_VOICE_BASIC_AUTH: 'bench:not-a-real-password',
} as const;

export const BENCH_SETTINGS = {
  ENGAGE_VOICE_TIMEZONE: 'America/New_York',
  DEFAULT_PHONE_REGION: 'US',
} as const;

/** Environment a handler process needs besides the SDK endpoints. */
export function benchEnv(bucket: string, table: string): Record<string, string> {
  return { ...BENCH_SECRETS, ...BENCH_SETTINGS, BUCKET_NAME: bucket, TABLE_NAME: table };
}

export const ROOT = new URL('../../', import.meta.url).pathname;

function readFixture(rel: string): Buffer | undefined {
  const p = join(ROOT, 'events', 'payloads', rel);
  return existsSync(p) ? readFileSync(p) : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readJsonFixture(rel: string): Record<string, unknown> | undefined {
  const bytes = readFixture(rel);
  if (!bytes) return undefined;
  const parsed: unknown = JSON.parse(bytes.toString('utf8'));
  return isRecord(parsed) ? parsed : undefined;
}

let seq = 0;
function requestId(): string {
  seq += 1;
  return `bench-${process.pid}-${seq}`;
}

interface EventInit {
  method: 'GET' | 'POST';
  path: string;
  routeKey: string;
  headers: Record<string, string>;
  query?: Record<string, string>;
  body?: Buffer;
  /** Text bodies (JSON) are passed as strings, as API Gateway does; everything else base64. */
  text?: boolean;
  pathParameters?: Record<string, string>;
}

export function apiEvent(init: EventInit): APIGatewayProxyEventV2 {
  const rawQueryString = new URLSearchParams(init.query ?? {}).toString();
  const now = new Date();
  const body = init.body;
  return {
    version: '2.0',
    routeKey: init.routeKey,
    rawPath: init.path,
    rawQueryString,
    headers: {
      host: 'bench.execute-api.us-east-1.amazonaws.com',
      'user-agent': 'voice-webhooks-bench',
      'x-forwarded-proto': 'https',
      ...(body ? { 'content-length': String(body.length) } : {}),
      ...init.headers,
    },
    ...(init.query ? { queryStringParameters: init.query } : {}),
    ...(init.pathParameters ? { pathParameters: init.pathParameters } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'bench',
      domainName: 'bench.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'bench',
      http: { method: init.method, path: init.path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'voice-webhooks-bench' },
      requestId: requestId(),
      routeKey: init.routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body ? { body: init.text ? body.toString('utf8') : body.toString('base64'), isBase64Encoded: !init.text } : { isBase64Encoded: false }),
  };
}

// ---------------------------------------------------------------- watsonx

export const MULAW_BYTES_PER_SECOND = 8000;

/** Deterministic µ-law noise (every byte value occurs, as in real audio). */
export function mulawAudio(bytes: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

export interface WatsonxOptions {
  audio: Buffer;
  sessionId?: string;
  recordingId?: string;
  /** Start of the recording; the stop timestamp follows from the audio length. */
  start?: Date;
}

export const WATSONX_BOUNDARY = '----voicewebhooksbench7MA4YWxkTrZu0gW';

export function watsonxBody(o: WatsonxOptions): Buffer {
  const start = o.start ?? new Date('2025-03-14T15:09:26.000Z');
  const stop = new Date(start.getTime() + Math.round((o.audio.length / MULAW_BYTES_PER_SECOND) * 1000));
  const fixture = readJsonFixture('watsonx/metadata.json');
  const metadata = {
    assistant_id: typeof fixture?.assistant_id === 'string' ? fixture.assistant_id : 'b8a7c6d5-0000-4000-8000-000000000001',
    environment_id: typeof fixture?.environment_id === 'string' ? fixture.environment_id : 'e1d2c3b4-0000-4000-8000-000000000002',
    session_id: o.sessionId ?? 'bench-session-0001',
    recording_id: o.recordingId ?? 'bench-recording-0001',
    start_timestamp: start.toISOString(),
    stop_timestamp: stop.toISOString(),
  };
  const b = WATSONX_BOUNDARY;
  return Buffer.concat([
    Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="metadata"\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(metadata)}\r\n`),
    Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="audio_recording"\r\nContent-Type: audio/mulaw;rate=8000\r\n\r\n`),
    o.audio,
    Buffer.from(`\r\n--${b}--\r\n`),
  ]);
}

export async function watsonxJwt(): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(new TextEncoder().encode(BENCH_SECRETS.WATSONX_AUDIO_SECRET));
}

export async function watsonxEvent(o: WatsonxOptions): Promise<APIGatewayProxyEventV2> {
  return watsonxEventWithJwt(o, await watsonxJwt());
}

export function watsonxEventWithJwt(o: WatsonxOptions, jwt: string): APIGatewayProxyEventV2 {
  return apiEvent({
    method: 'POST',
    path: '/audio-webhook',
    routeKey: 'ANY /audio-webhook',
    headers: { authorization: `Bearer ${jwt}`, 'content-type': `multipart/form-data; boundary=${WATSONX_BOUNDARY}` },
    body: watsonxBody(o),
  });
}

/** Multipart overhead of a watsonx body around its audio (it depends on the ids' lengths). */
export function watsonxOverhead(o: Omit<WatsonxOptions, 'audio'> = {}): number {
  return watsonxBody({ ...o, audio: Buffer.alloc(0) }).length;
}

/** Audio bytes of the largest recording the handler accepts: the body is exactly MAX_BODY_BYTES. */
export function largestAcceptedAudioBytes(o: Omit<WatsonxOptions, 'audio'> = {}): number {
  return MAX_BODY_BYTES - watsonxOverhead(o);
}

// ---------------------------------------------------------------- JSON sources

const FALLBACK_VOLUBILE = {
  id: 'bench-volubile-call-0001',
  status: 'COMPLETED',
  direction: 'INBOUND',
  phoneNumber: '+14155550123',
  startedAt: '2025-03-14T15:09:26.000Z',
  endedAt: '2025-03-14T15:12:01.000Z',
  duration: 155,
  transcript: [{ role: 'agent', content: 'Hello' }, { role: 'user', content: 'Hi' }],
  extractorData: { reason: 'billing' },
  classifierData: { sentiment: 'positive' },
};

const FALLBACK_SYNTHFLOW = {
  status: 'completed',
  error_message: null,
  lead: { name: 'Bench', phone_number: '+14155550123' },
  call: {
    call_id: 'bench-synthflow-call-0001',
    status: 'completed',
    end_call_reason: 'human_goodbye',
    start_time: '2025-03-14T15:09:26.123456+00:00',
    duration: 155,
    timezone: 'UTC',
    transcript: '\nbot: Hello\nhuman: Hi',
  },
  executed_actions: {},
};

const FALLBACK_ENGAGE: Record<string, string> = {
  uii: '202503141509260000000000000001',
  agent_id: '1001',
  agent_username: 'bench.agent',
  ani: '4155550123',
  dnis: '8005550100',
  call_start: '2025-03-14 11:09:26.1234',
  duration: '155',
  disposition: 'Completed',
  recording_url: 'https://example.invalid/recording/1.wav',
};

export function volubilePayload(id?: string): Record<string, unknown> {
  const p = readJsonFixture('volubile/call-completed.json') ?? FALLBACK_VOLUBILE;
  return id ? { ...p, id } : p;
}

export function synthflowPayload(callId?: string): Record<string, unknown> {
  const p = readJsonFixture('synthflow/call-completed.json') ?? FALLBACK_SYNTHFLOW;
  if (!callId) return p;
  const call = isRecord(p.call) ? p.call : {};
  return { ...p, call: { ...call, call_id: callId } };
}

export function engagePayload(uii?: string): Record<string, string> {
  const p = readJsonFixture('engage-voice/agent-termination.json');
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(p ?? FALLBACK_ENGAGE)) if (typeof v === 'string') flat[k] = v;
  return uii ? { ...flat, uii } : flat;
}

export function volubileEvent(payload = volubilePayload()): APIGatewayProxyEventV2 {
  const body = Buffer.from(JSON.stringify(payload));
  const signature = createHmac('sha256', BENCH_SECRETS.VOLUBILE_WEBHOOK_SECRET).update(body).digest('hex');
  return apiEvent({
    method: 'POST',
    path: '/call-completed/volubile',
    routeKey: 'ANY /call-completed/{provider}',
    pathParameters: { provider: 'volubile' },
    query: { token: BENCH_SECRETS.VOLUBILE_WEBHOOK_TOKEN },
    headers: { 'content-type': 'application/json', 'x-webhook-signature': signature },
    body,
    text: true,
  });
}

export function synthflowEvent(payload = synthflowPayload()): APIGatewayProxyEventV2 {
  const body = Buffer.from(JSON.stringify(payload));
  const call = isRecord(payload.call) ? payload.call : {};
  const callId = typeof call.call_id === 'string' ? call.call_id : '';
  const signature = createHmac('sha256', BENCH_SECRETS.SYNTHFLOW_WEBHOOK_SECRET).update(callId).digest('base64');
  return apiEvent({
    method: 'POST',
    path: '/call-completed/synthflow',
    routeKey: 'ANY /call-completed/{provider}',
    pathParameters: { provider: 'synthflow' },
    query: { token: BENCH_SECRETS.SYNTHFLOW_WEBHOOK_TOKEN },
    headers: { 'content-type': 'application/json', 'synthflow-signature': signature },
    body,
    text: true,
  });
}

export type EngageForm = 'json' | 'form' | 'get';

export function engageEvent(form: EngageForm, payload = engagePayload()): APIGatewayProxyEventV2 {
  const token = BENCH_SECRETS.ENGAGE_VOICE_TOKEN;
  const basic = `Basic ${Buffer.from(BENCH_SECRETS.ENGAGE_VOICE_BASIC_AUTH).toString('base64')}`;
  const common = { path: '/engage-voice', routeKey: 'ANY /engage-voice' } as const;
  if (form === 'get') {
    return apiEvent({ ...common, method: 'GET', query: { ...payload, token }, headers: { authorization: basic } });
  }
  if (form === 'form') {
    return apiEvent({
      ...common, method: 'POST', query: { token },
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: Buffer.from(new URLSearchParams(payload).toString()),
    });
  }
  return apiEvent({
    ...common, method: 'POST', query: { token },
    headers: { authorization: basic, 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify(payload)), text: true,
  });
}

/** A fresh unique id for end-to-end deliveries (so none is a duplicate of another). */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

/** A 30-digit Engage Voice uii. */
export function uniqueUii(n: number): string {
  return `${Date.now()}${String(n).padStart(17, '0')}`.slice(0, 30).padEnd(30, '0');
}
