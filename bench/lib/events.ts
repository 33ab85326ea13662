import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { MAX_BODY_BYTES } from '#shared/request';
import {
  engageVoiceRequest, synthflowRequest, vapiRequest, volubileRequest, watsonxJwt as signWatsonxJwt, watsonxMultipart,
} from '../../lib/requests.ts';
import { eventFromRequest } from '../../lib/event.ts';

/**
 * API Gateway HTTP API v2.0 events for every source, signed with the bench's
 * own clearly fake secrets. They are built by the same request builders and
 * event builder as `npm run events` and `npm run replay` (scripts/lib), so the
 * bench times exactly what the product's tools send. The JSON bodies are the
 * vendor fixtures in events/payloads/; the watsonx recordings are synthesized
 * at the sizes the benchmark needs (8,000 bytes per second).
 */

export const BENCH_SECRETS = {
  WATSONX_AUDIO_SECRET: 'bench-watsonx-secret-not-a-real-secret-0123456789',
  VOLUBILE_WEBHOOK_SECRET: 'bench-volubile-secret-not-real',
  VOLUBILE_WEBHOOK_TOKEN: 'bench-volubile-token',
  SYNTHFLOW_WEBHOOK_SECRET: 'bench-synthflow-secret-not-real',
  SYNTHFLOW_WEBHOOK_TOKEN: 'bench-synthflow-token',
  ENGAGE_VOICE_TOKEN: 'bench-engage-token',
  ENGAGE_VOICE_BASIC_AUTH: 'bench:not-a-real-password',
  VAPI_WEBHOOK_SECRET: 'bench-vapi-secret-not-real',
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

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readJsonFixture(rel: string): Record<string, unknown> {
  const parsed: unknown = JSON.parse(readFileSync(join(ROOT, 'events', 'payloads', rel), 'utf8'));
  if (!isRecord(parsed)) throw new Error(`events/payloads/${rel} is not a JSON object`);
  return parsed;
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

function watsonxMetadata(o: Omit<WatsonxOptions, 'audio'> & { audioBytes: number }): Buffer {
  const start = o.start ?? new Date('2025-03-14T15:09:26.000Z');
  const stop = new Date(start.getTime() + Math.round((o.audioBytes / MULAW_BYTES_PER_SECOND) * 1000));
  const fixture = readJsonFixture('watsonx/metadata.json');
  return Buffer.from(JSON.stringify({
    assistant_id: fixture.assistant_id,
    environment_id: fixture.environment_id,
    session_id: o.sessionId ?? 'bench-session-0001',
    recording_id: o.recordingId ?? 'bench-recording-0001',
    start_timestamp: start.toISOString(),
    stop_timestamp: stop.toISOString(),
  }));
}

/** The documented watsonx multipart (audio part without a filename), as scripts/lib builds it. */
function watsonxMultipartOf(o: WatsonxOptions): { contentType: string; body: Buffer } {
  return watsonxMultipart({ metadata: watsonxMetadata({ ...o, audioBytes: o.audio.length }), audio: o.audio, variant: 'mulaw' });
}

export function watsonxBody(o: WatsonxOptions): Buffer {
  return watsonxMultipartOf(o).body;
}

export async function watsonxJwt(): Promise<string> {
  return signWatsonxJwt(BENCH_SECRETS.WATSONX_AUDIO_SECRET, new Date(), 2 * 3600);
}

export async function watsonxEvent(o: WatsonxOptions): Promise<APIGatewayProxyEventV2> {
  return watsonxEventWithJwt(o, await watsonxJwt());
}

/** One JWT for many events: signing is not what the bench measures. */
export function watsonxEventWithJwt(o: WatsonxOptions, jwt: string): APIGatewayProxyEventV2 {
  const { contentType, body } = watsonxMultipartOf(o);
  return eventFromRequest({
    method: 'POST', path: '/audio-webhook', query: '', body,
    headers: [['content-type', contentType], ['authorization', `Bearer ${jwt}`]],
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

export function volubilePayload(id?: string): Record<string, unknown> {
  const p = readJsonFixture('volubile/call-completed.json');
  return id ? { ...p, id } : p;
}

export function synthflowPayload(callId?: string): Record<string, unknown> {
  const p = readJsonFixture('synthflow/call-completed.json');
  if (!callId) return p;
  const call = isRecord(p.call) ? p.call : {};
  return { ...p, call: { ...call, call_id: callId } };
}

export function vapiPayload(callId?: string): Record<string, unknown> {
  const p = readJsonFixture('vapi/end-of-call-report.json');
  if (!callId || !isRecord(p.message)) return p;
  const call = isRecord(p.message.call) ? p.message.call : {};
  return { ...p, message: { ...p.message, call: { ...call, id: callId } } };
}

export function engagePayload(uii?: string): Record<string, string> {
  const p = readJsonFixture('engage-voice/agent-termination.json');
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(p)) if (typeof v === 'string') flat[k] = v;
  return uii ? { ...flat, uii } : flat;
}

export function volubileEvent(payload = volubilePayload()): APIGatewayProxyEventV2 {
  return eventFromRequest(volubileRequest(Buffer.from(JSON.stringify(payload)), {
    secret: BENCH_SECRETS.VOLUBILE_WEBHOOK_SECRET, token: BENCH_SECRETS.VOLUBILE_WEBHOOK_TOKEN,
  }));
}

export function synthflowEvent(payload = synthflowPayload()): APIGatewayProxyEventV2 {
  return eventFromRequest(synthflowRequest(Buffer.from(JSON.stringify(payload)), {
    secret: BENCH_SECRETS.SYNTHFLOW_WEBHOOK_SECRET, token: BENCH_SECRETS.SYNTHFLOW_WEBHOOK_TOKEN,
  }));
}

/** Vapi's end-of-call report, HMAC-signed as Vapi sends it (with its timestamp header). */
export function vapiEvent(payload = vapiPayload()): APIGatewayProxyEventV2 {
  return eventFromRequest(vapiRequest(Buffer.from(JSON.stringify(payload)), { secret: BENCH_SECRETS.VAPI_WEBHOOK_SECRET }, new Date()));
}

export type EngageForm = 'json' | 'form' | 'get';

export function engageEvent(form: EngageForm, payload = engagePayload()): APIGatewayProxyEventV2 {
  return eventFromRequest(engageVoiceRequest(payload, form, {
    token: BENCH_SECRETS.ENGAGE_VOICE_TOKEN, basic: BENCH_SECRETS.ENGAGE_VOICE_BASIC_AUTH,
  }));
}

/** A fresh unique id for end-to-end deliveries (so none is a duplicate of another). */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

/** A 30-digit Engage Voice uii. */
export function uniqueUii(n: number): string {
  return `${Date.now()}${String(n).padStart(17, '0')}`.slice(0, 30).padEnd(30, '0');
}
