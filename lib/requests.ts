import { createHash, createHmac } from 'node:crypto';
import { SignJWT } from 'jose';
import * as v from 'valibot';

/**
 * Correctly signed requests for each source, as the vendor would send them.
 * The events generator turns them into API Gateway events; the replay tool
 * sends them over HTTP. Headers host/content-length are the transport's job.
 */

export interface OutgoingRequest {
  method: 'GET' | 'POST';
  path: string;
  /** Raw query string without `?` ('' when none). */
  query: string;
  headers: [string, string][];
  body?: Buffer;
}

export function requestTarget(r: Pick<OutgoingRequest, 'path' | 'query'>): string {
  return r.query ? `${r.path}?${r.query}` : r.path;
}

export const USER_AGENT = 'voice-webhooks-sample/1.0';

// ---------------------------------------------------------------- watsonx

export interface WatsonxAudio {
  metadata: Buffer;
  audio: Buffer;
  /**
   * The documented shape: metadata part `application/json`, audio part
   * `audio/mulaw;rate=8000` without a filename. `wav`: IBM's test client's
   * shape: metadata part without a content type, audio a WAV file with a filename.
   */
  variant: 'mulaw' | 'wav';
}

/** A fresh HS256 JWT signed with the watsonx audio secret; `exp` a few hours ahead, or none for `ttlSeconds: null`. */
export async function watsonxJwt(secret: string, now = new Date(), ttlSeconds: number | null = 4 * 3600): Promise<string> {
  const iat = Math.floor(now.getTime() / 1000);
  const jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt(iat);
  if (ttlSeconds !== null) jwt.setExpirationTime(iat + ttlSeconds);
  return jwt.sign(new TextEncoder().encode(secret));
}

/** multipart/form-data bytes; the boundary depends only on the content, so a replay sends identical bytes. */
export function watsonxMultipart(a: WatsonxAudio): { contentType: string; body: Buffer } {
  const boundary = `----VoiceWebhooksBoundary${createHash('sha256').update(a.metadata).update(a.audio).digest('hex').slice(0, 24)}`;
  const metadataHead = a.variant === 'wav'
    ? 'Content-Disposition: form-data; name="metadata"\r\n'
    : 'Content-Disposition: form-data; name="metadata"\r\nContent-Type: application/json\r\n';
  const audioHead = a.variant === 'wav'
    ? 'Content-Disposition: form-data; name="audio_recording"; filename="recording.wav"\r\nContent-Type: audio/wav\r\n'
    : 'Content-Disposition: form-data; name="audio_recording"\r\nContent-Type: audio/mulaw;rate=8000\r\n';
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\n${metadataHead}\r\n`),
    a.metadata,
    Buffer.from(`\r\n--${boundary}\r\n${audioHead}\r\n`),
    a.audio,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { contentType: `multipart/form-data; boundary=${boundary}`, body };
}

export async function watsonxRequest(a: WatsonxAudio, secret: string | undefined, now = new Date(), ttlSeconds?: number | null): Promise<OutgoingRequest> {
  const { contentType, body } = watsonxMultipart(a);
  const headers: [string, string][] = [['content-type', contentType], ['user-agent', USER_AGENT]];
  if (secret !== undefined) headers.push(['authorization', `Bearer ${await watsonxJwt(secret, now, ttlSeconds)}`]);
  return { method: 'POST', path: '/audio-webhook', query: '', headers, body };
}

// ---------------------------------------------------------------- URL token

function withToken(token: string | undefined): string {
  return token !== undefined ? new URLSearchParams({ token }).toString() : '';
}

// ---------------------------------------------------------------- Volubile

/** Lowercase hex HMAC-SHA256(secret, raw body). */
export function volubileSignature(secret: string, body: Buffer): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

export function volubileRequest(body: Buffer, auth: { secret?: string | undefined; token?: string | undefined }): OutgoingRequest {
  const headers: [string, string][] = [['content-type', 'application/json'], ['user-agent', USER_AGENT]];
  if (auth.secret !== undefined) headers.push(['x-webhook-signature', volubileSignature(auth.secret, body)]);
  return { method: 'POST', path: '/call-completed/volubile', query: withToken(auth.token), headers, body };
}

// ---------------------------------------------------------------- Synthflow

const SynthflowIds = v.object({ call: v.object({ call_id: v.string() }) });

/** Base64 HMAC-SHA256(secret, call.call_id). */
export function synthflowSignature(secret: string, callId: string): string {
  return createHmac('sha256', secret).update(callId).digest('base64');
}

export function synthflowCallId(body: Buffer): string {
  return v.parse(SynthflowIds, JSON.parse(body.toString('utf8'))).call.call_id;
}

export function synthflowRequest(body: Buffer, auth: { secret?: string | undefined; token?: string | undefined }): OutgoingRequest {
  const headers: [string, string][] = [['content-type', 'application/json'], ['user-agent', USER_AGENT]];
  if (auth.secret !== undefined) headers.push(['x-synthflow-signature', synthflowSignature(auth.secret, synthflowCallId(body))]);
  return { method: 'POST', path: '/call-completed/synthflow', query: withToken(auth.token), headers, body };
}

// ---------------------------------------------------------------- Vapi

/**
 * A Vapi server message as Vapi sends it: with a secret, an HMAC credential's
 * hex HMAC-SHA256 in x-vapi-signature — of `<x-vapi-timestamp>.<body>` when a
 * timestamp is given, else of the body alone (a credential with the timestamp
 * off, which keeps saved events replayable); with a token, a Bearer credential.
 */
export function vapiRequest(body: Buffer, auth: { secret?: string | undefined; token?: string | undefined }, timestamp?: Date): OutgoingRequest {
  const headers: [string, string][] = [['content-type', 'application/json'], ['user-agent', USER_AGENT]];
  if (auth.secret !== undefined) {
    const hmac = createHmac('sha256', auth.secret);
    if (timestamp !== undefined) {
      const stamp = String(Math.floor(timestamp.getTime() / 1000));
      headers.push(['x-vapi-timestamp', stamp]);
      hmac.update(`${stamp}.`);
    }
    headers.push(['x-vapi-signature', hmac.update(body).digest('hex')]);
  }
  if (auth.token !== undefined) headers.push(['authorization', `Bearer ${auth.token}`]);
  return { method: 'POST', path: '/call-completed/vapi', query: '', headers, body };
}

// ---------------------------------------------------------------- Engage Voice

export type EngageVariant = 'json' | 'form' | 'get';

export function basicAuthorization(userPassword: string): string {
  return `Basic ${Buffer.from(userPassword, 'utf8').toString('base64')}`;
}

/**
 * RingCX web service: JSON body, form body, or every field in the query
 * string (GET). `json` is the body to send for the JSON variant (the fixture's
 * own bytes), so signatures and digests match the file.
 */
export function engageVoiceRequest(
  fields: Record<string, string>,
  variant: EngageVariant,
  auth: { token?: string | undefined; basic?: string | undefined },
  json?: Buffer,
): OutgoingRequest {
  const headers: [string, string][] = [['user-agent', USER_AGENT]];
  if (auth.basic !== undefined) headers.push(['authorization', basicAuthorization(auth.basic)]);
  const token = withToken(auth.token);
  if (variant === 'get') {
    const query = [new URLSearchParams(fields).toString(), token].filter((s) => s !== '').join('&');
    return { method: 'GET', path: '/engage-voice', query, headers };
  }
  if (variant === 'form') {
    headers.unshift(['content-type', 'application/x-www-form-urlencoded']);
    return { method: 'POST', path: '/engage-voice', query: token, headers, body: Buffer.from(new URLSearchParams(fields).toString()) };
  }
  headers.unshift(['content-type', 'application/json']);
  return { method: 'POST', path: '/engage-voice', query: token, headers, body: json ?? Buffer.from(JSON.stringify(fields)) };
}
