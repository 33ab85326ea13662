import { createHmac } from 'node:crypto';
import * as v from 'valibot';
import { BadRequest, Unauthorized } from '#shared/errors';
import { type Match, matchCredential, onPrevious, presentedToken, requireSomeCheck, safeEqual } from '#shared/auth';
import type { CallStatus, Interpretation, InterpretContext, NormalizedCall, Recording, TranscriptTurn } from '#shared/model';
import type { CredentialName, Secrets } from '#shared/config';
import type { WebhookRequest } from '#shared/request';
import { normalizePhone } from '#shared/phone';
import { CALL_SK } from '#shared/table';
import { isPlainObject, parseJsonObject, plainObject } from '../json.ts';
import { audioLink } from '../links.ts';
import { parseEpochSeconds, parseInstant, parseSeconds, toIso } from '#shared/time';
import { speakerOf, splitTranscript } from '../transcript.ts';
import { type CallProvider, type NotACall, SafeId, eventVersion, validate } from './types.ts';
import { isSafeId } from '#shared/keys';

/**
 * Vapi server messages: `{ message: { type, call{id, type, …}, … } }`.
 * Only `end-of-call-report` is a call: endedReason, startedAt, endedAt,
 * customer{number}, phoneNumber{number}, assistant{id, name},
 * artifact{messages[], transcript, recording{mono{combinedUrl}, stereoUrl},
 * recordingUrl, stereoRecordingUrl}, analysis{summary, structuredData,
 * successEvaluation}. Older reports carry transcript/messages/recordingUrl/
 * summary at the top level of `message`; both are read. Every other message
 * type is archived raw and not indexed.
 *
 * Auth (Vapi custom credentials), every configured check must pass:
 *  - VAPI_WEBHOOK_SECRET: HMAC credential. Signature in `x-vapi-signature`
 *    (or Vapi's default `x-signature`), hex or base64, optional `sha256=`-style
 *    prefix, SHA-256/512/1 told apart by length. With a timestamp header
 *    (`x-vapi-timestamp` / `x-timestamp`) the signed payload is
 *    `<timestamp>.<raw body>` (Vapi's default payload format) and the
 *    timestamp must be within 5 minutes; without one, the raw body.
 *  - VAPI_WEBHOOK_TOKEN: Bearer credential, `Authorization: Bearer <token>`
 *    (prefix optional), legacy `X-Vapi-Secret: <token>`, or the URL token.
 * Vapi sends a report once and does not retry: nothing here waits on anything.
 */

export const END_OF_CALL_REPORT = 'end-of-call-report';
export const SIGNATURE_HEADERS = ['x-vapi-signature', 'x-signature'] as const;
export const TIMESTAMP_HEADERS = ['x-vapi-timestamp', 'x-timestamp'] as const;
/** How far a signed timestamp may be from our clock, either way. */
export const TIMESTAMP_TOLERANCE_MS = 5 * 60_000;

const ALGORITHM_BY_BYTES: Record<number, string> = { 20: 'sha1', 32: 'sha256', 64: 'sha512' };

const EXACT_STATUS: Record<string, CallStatus> = {
  'customer-busy': 'busy',
  'call.forwarding.operator-busy': 'busy',
  'vonage-rejected': 'busy',
  'customer-did-not-answer': 'no-answer',
  'call.forwarding.no-answer': 'no-answer',
  voicemail: 'voicemail',
  'assistant-forwarded-call': 'transferred',
  'call.ringing.hook-executed-transfer': 'transferred',
  'call.ending.hook-executed-transfer': 'transferred',
  'manually-canceled': 'canceled',
  'scheduled-call-deleted': 'canceled',
  'call-deleted': 'canceled',
  'call.ringing.sip-inbound-caller-hungup-before-call-connect': 'canceled',
  'assistant-ended-call': 'completed',
  'assistant-said-end-call-phrase': 'completed',
  'assistant-ended-call-with-hangup-task': 'completed',
  'assistant-ended-call-after-message-spoken': 'completed',
  'customer-ended-call': 'completed',
  'customer-ended-call-before-warm-transfer': 'completed',
  'customer-ended-call-after-warm-transfer-attempt': 'completed',
  'customer-ended-call-during-transfer': 'completed',
  'exceeded-max-duration': 'completed',
  'silence-timed-out': 'completed',
  'call.ringing.hook-executed-say': 'completed',
  'call.ending.hook-executed-say': 'completed',
  'vonage-completed': 'completed',
  'call.in-progress.twilio-completed-call': 'completed',
  'call.in-progress.sip-completed-call': 'completed',
  'assistant-not-found': 'failed',
  'assistant-not-valid': 'failed',
  'assistant-join-timed-out': 'failed',
  'worker-shutdown': 'failed',
  'customer-did-not-give-microphone-permission': 'failed',
  'twilio-reported-customer-misdialed': 'failed',
  'phone-call-provider-closed-websocket': 'failed',
  'phone-call-provider-bypass-enabled-but-no-call-received': 'failed',
};

/**
 * endedReason → status. Vapi lists several hundred reasons and adds more:
 * the known outcomes by name, the error families (`pipeline-error-…`,
 * `call.start.error-…`, `…-failed…`, `…-disconnected`) as failed, anything
 * else `unknown` (kept verbatim in statusDetail, never rejected).
 */
export function vapiStatus(endedReason: string | undefined): CallStatus | undefined {
  const reason = endedReason?.trim().toLowerCase();
  if (!reason) return undefined;
  const exact = EXACT_STATUS[reason];
  if (exact !== undefined && Object.hasOwn(EXACT_STATUS, reason)) return exact;
  if (/(^|[.-])(error|failed|fault)([.-]|$)|^pipeline-|^call\.start\.|-disconnected$|^assistant-request-/.test(reason)) return 'failed';
  return 'unknown';
}

// Fields a sender may get wrong are dropped, not refused: Vapi sends the report
// once, so a 400 over a mistyped optional field would lose the call.
const Str = v.fallback(v.optional(v.string()), undefined);
const Obj = v.fallback(v.optional(v.custom<Record<string, unknown>>(isPlainObject)), undefined);
const List = v.fallback(v.optional(v.array(v.unknown())), undefined);
const Instant = v.fallback(v.optional(v.union([v.string(), v.number()])), undefined);
const Party = v.fallback(v.optional(v.looseObject({ number: Str, name: Str })), undefined);
const Analysis = v.fallback(v.optional(v.looseObject({
  summary: Str,
  structuredData: Obj,
  successEvaluation: v.fallback(v.optional(v.union([v.string(), v.number(), v.boolean()])), undefined),
})), undefined);
const Recordings = v.fallback(v.optional(v.looseObject({
  mono: v.fallback(v.optional(v.looseObject({ combinedUrl: Str, assistantUrl: Str, customerUrl: Str })), undefined),
  stereoUrl: Str,
})), undefined);
const Artifact = v.fallback(v.optional(v.looseObject({
  messages: List,
  transcript: Str,
  recording: Recordings,
  recordingUrl: Str,
  stereoRecordingUrl: Str,
  structuredOutputs: Obj,
})), undefined);

const Report = v.looseObject({
  type: v.literal(END_OF_CALL_REPORT),
  call: v.looseObject({
    id: SafeId,
    type: Str,
    assistantId: Str,
    startedAt: Instant,
    endedAt: Instant,
    endedReason: Str,
    customer: Party,
    phoneNumber: Party,
  }),
  endedReason: Str,
  startedAt: Instant,
  endedAt: Instant,
  timestamp: Instant,
  durationSeconds: v.fallback(v.optional(v.union([v.number(), v.string()])), undefined),
  customer: Party,
  phoneNumber: Party,
  assistant: v.fallback(v.optional(v.looseObject({ id: Str, name: Str })), undefined),
  artifact: Artifact,
  analysis: Analysis,
  // Reports before `artifact`/`analysis` had these at the top level.
  transcript: Str,
  messages: List,
  summary: Str,
  recordingUrl: Str,
  stereoRecordingUrl: Str,
});
export type VapiReport = v.InferOutput<typeof Report>;

/** The envelope every server message shares: `{ message: { type } }`. */
function messageOf(raw: Uint8Array): Record<string, unknown> {
  const body = parseJsonObject(raw);
  const message = body.message;
  if (!isPlainObject(message) || typeof message.type !== 'string' || message.type.trim() === '') {
    throw new BadRequest('invalid Vapi server message: expected { "message": { "type": "…", … } }', 'invalid_payload');
  }
  return message;
}

/** Turns from `artifact.messages`: user → customer, bot/assistant → agent; system and tool messages skipped. */
export function vapiTurns(messages: readonly unknown[]): TranscriptTurn[] {
  const turns: TranscriptTurn[] = [];
  for (const m of messages) {
    if (!isPlainObject(m) || typeof m.role !== 'string') continue;
    const text = typeof m.message === 'string' ? m.message : typeof m.content === 'string' ? m.content : undefined;
    if (text === undefined || text.trim() === '') continue;
    const speaker = speakerOf(m.role === 'bot' ? 'assistant' : m.role);
    if (speaker === 'unknown') continue;
    turns.push({ speaker, text: text.trim() });
  }
  return turns;
}

/** A vendor-held recording: its id (`mono`, `stereo`), where Vapi serves it, the type its extension says (WAV by default). */
export function vapiRecording(id: string, url: string | undefined): Recording | undefined {
  const link = audioLink(url, 'audio/wav');
  return link ? { id, sourceUrl: link.href, contentType: link.contentType } : undefined;
}

function direction(callType: string | undefined): NormalizedCall['direction'] {
  if (callType === 'inboundPhoneCall') return 'inbound';
  if (callType === 'outboundPhoneCall') return 'outbound';
  return undefined;
}

function nonEmpty<T extends object>(o: T | undefined): T | undefined {
  return o && Object.keys(o).length > 0 ? o : undefined;
}

export function normalizeVapi(report: VapiReport, ctx: InterpretContext): Interpretation {
  const { call, artifact, analysis } = report;
  const started = parseInstant(report.startedAt ?? call.startedAt);
  const ended = parseInstant(report.endedAt ?? call.endedAt);
  const endedReason = report.endedReason ?? call.endedReason;
  const status = vapiStatus(endedReason);
  const dir = direction(call.type);
  const customer = normalizePhone(report.customer?.number ?? call.customer?.number, ctx.defaultPhoneRegion);
  const assistantNumber = normalizePhone(report.phoneNumber?.number ?? call.phoneNumber?.number, ctx.defaultPhoneRegion);
  const messages = artifact?.messages ?? report.messages;
  const transcriptText = artifact?.transcript ?? report.transcript;
  let transcript = messages ? vapiTurns(messages) : [];
  if (transcript.length === 0 && transcriptText) transcript = splitTranscript(transcriptText);
  const recordings = [
    vapiRecording('mono', artifact?.recording?.mono?.combinedUrl ?? artifact?.recordingUrl ?? report.recordingUrl),
    vapiRecording('stereo', artifact?.recording?.stereoUrl ?? artifact?.stereoRecordingUrl ?? report.stereoRecordingUrl),
  ].filter((r): r is Recording => r !== undefined);
  const extracted: Record<string, unknown> = { ...(analysis?.structuredData ? plainObject(analysis.structuredData) : {}) };
  if (artifact?.structuredOutputs && Object.keys(artifact.structuredOutputs).length > 0) {
    extracted.structuredOutputs = plainObject(artifact.structuredOutputs);
  }
  const success = analysis?.successEvaluation;
  const agentId = report.assistant?.id ?? call.assistantId;
  const agentName = report.assistant?.name;
  const duration = parseSeconds(report.durationSeconds)
    ?? (started !== undefined && ended !== undefined && ended >= started ? (ended - started) / 1000 : undefined);

  const normalized: NormalizedCall = {
    source: 'vapi',
    callId: call.id,
    status,
    statusDetail: endedReason || undefined,
    direction: dir,
    customerNumber: customer,
    // As for Engage Voice: inbound, the number the customer dialed (the assistant's); outbound, the customer's.
    dialedNumber: dir === 'inbound' ? assistantNumber : dir === 'outbound' ? customer : undefined,
    agent: agentId || agentName ? { ...(agentId ? { id: agentId } : {}), ...(agentName ? { name: agentName } : {}) } : undefined,
    startedAt: toIso(started),
    endedAt: toIso(ended),
    durationSec: duration,
    transcript: transcript.length > 0 ? transcript : undefined,
    summary: analysis?.summary || report.summary || undefined,
    extracted: nonEmpty(extracted),
    labels: success === undefined ? undefined : { successEvaluation: String(success) },
    recordings,
  };
  const eventMs = ended ?? parseInstant(report.timestamp) ?? started;
  return { call: normalized, sk: CALL_SK, version: eventVersion(eventMs, status) };
}

/** The end-of-call report as a call, or what any other server message is (archived, not indexed). */
export function readVapi(raw: Uint8Array, ctx: InterpretContext): Interpretation | NotACall {
  const message = messageOf(raw);
  if (message.type !== END_OF_CALL_REPORT) {
    const call = message.call;
    const id = isPlainObject(call) && typeof call.id === 'string' && isSafeId(call.id) ? call.id : undefined;
    return { notACall: true, messageType: String(message.type).slice(0, 64), ...(id ? { callId: id } : {}) };
  }
  return normalizeVapi(validate(Report, message, 'invalid Vapi end-of-call-report: message'), ctx);
}

/** A signature header's bytes: hex or base64, after an optional `name=` prefix (`sha256=…`). */
function signatureBytes(presented: string): Buffer | undefined {
  const value = presented.trim().replace(/^[A-Za-z0-9_-]{1,16}=(?=[A-Za-z0-9+/])/, '');
  if (/^[0-9a-fA-F]+$/.test(value) && ALGORITHM_BY_BYTES[value.length / 2] !== undefined) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) {
    const bytes = Buffer.from(value, 'base64');
    if (ALGORITHM_BY_BYTES[bytes.length] !== undefined) return bytes;
  }
  return undefined;
}

/** Epoch ms of a timestamp header: seconds, milliseconds or ISO-8601. */
function timestampMs(value: string): number | undefined {
  return parseEpochSeconds(value) ?? parseInstant(value);
}

function firstHeader(req: WebhookRequest, names: readonly string[]): string | undefined {
  return names.map((h) => req.headers[h]).find((s) => s !== undefined && s.trim() !== '');
}

/** Whether `sig` is the HMAC of this request with `secret` (see the header comment for the payload). */
function signatureMatches(sig: Buffer, algorithm: string, secret: string, body: Buffer, stamp: string | undefined): boolean {
  const mac = (...parts: (string | Buffer)[]) => {
    const h = createHmac(algorithm, secret);
    for (const p of parts) h.update(p);
    return h.digest();
  };
  if (stamp === undefined) return safeEqual(sig, mac(body));
  // Vapi's default payload format is `{timestamp}.{body}`; a credential with includeTimestamp off signs the body alone.
  const withStamp = safeEqual(sig, mac(stamp, '.', body));
  const bodyOnly = safeEqual(sig, mac(body));
  return withStamp || bodyOnly;
}

/** HMAC credential: VAPI_WEBHOOK_SECRET (or, during a rotation, its previous value). */
export function requireVapiSignature(req: WebhookRequest, secrets: Secrets, now: number): Match {
  const presented = firstHeader(req, SIGNATURE_HEADERS);
  if (presented === undefined) {
    throw new Unauthorized('missing x-vapi-signature header: give the Vapi server an HMAC credential with the same secret as VAPI_WEBHOOK_SECRET', 'missing_signature');
  }
  const sig = signatureBytes(presented);
  const algorithm = sig ? ALGORITHM_BY_BYTES[sig.length] : undefined;
  if (!sig || !algorithm) {
    throw new Unauthorized('invalid x-vapi-signature: expected a hex or base64 HMAC (SHA-256, SHA-512 or SHA-1) of the raw body', 'invalid_signature');
  }
  const stamp = firstHeader(req, TIMESTAMP_HEADERS)?.trim();
  if (stamp !== undefined) {
    const at = timestampMs(stamp);
    if (at === undefined || Math.abs(now - at) > TIMESTAMP_TOLERANCE_MS) {
      throw new Unauthorized('x-vapi-timestamp is missing a valid time or is more than 5 minutes from ours: check the server clock', 'stale_timestamp');
    }
  }
  const match = matchCredential(secrets, 'VAPI_WEBHOOK_SECRET', (secret) => signatureMatches(sig, algorithm, secret, req.body, stamp));
  if (!match) {
    throw new Unauthorized('invalid x-vapi-signature: expected HMAC of "<x-vapi-timestamp>.<raw body>" (or of the raw body when no timestamp is sent) with VAPI_WEBHOOK_SECRET', 'invalid_signature');
  }
  return match;
}

/** Bearer credential: `Authorization: Bearer <t>` (or bare), legacy `X-Vapi-Secret`, or the URL token. */
export function requireVapiToken(req: WebhookRequest, secrets: Secrets): Match {
  const auth = req.headers.authorization?.trim();
  const candidates = [
    auth === undefined ? undefined : auth.replace(/^Bearer\s+/i, ''),
    req.headers['x-vapi-secret']?.trim(),
    presentedToken(req),
  ].filter((c): c is string => c !== undefined && c !== '');
  if (candidates.length === 0) {
    throw new Unauthorized('missing Vapi credential: give the Vapi server a Bearer Token credential (Authorization: Bearer, or X-Vapi-Secret) with the value of VAPI_WEBHOOK_TOKEN', 'missing_token');
  }
  // Every candidate is compared, so the time taken does not say which one was right.
  const match = matchCredential(secrets, 'VAPI_WEBHOOK_TOKEN', (token) => {
    let ok = false;
    for (const c of candidates) ok = safeEqual(c, token) || ok;
    return ok;
  });
  if (!match) throw new Unauthorized('invalid Vapi credential: the Bearer / X-Vapi-Secret value does not match VAPI_WEBHOOK_TOKEN', 'invalid_token');
  return match;
}

function authenticate(req: WebhookRequest, secrets: Secrets): CredentialName[] {
  requireSomeCheck('vapi', Boolean(secrets.VAPI_WEBHOOK_SECRET || secrets.VAPI_WEBHOOK_TOKEN), vapi.authVariables);
  const tokenMatch = secrets.VAPI_WEBHOOK_TOKEN ? requireVapiToken(req, secrets) : undefined;
  const signatureMatch = secrets.VAPI_WEBHOOK_SECRET ? requireVapiSignature(req, secrets, req.receivedAt.getTime()) : undefined;
  return onPrevious([['VAPI_WEBHOOK_TOKEN', tokenMatch], ['VAPI_WEBHOOK_SECRET', signatureMatch]]);
}

export const vapi: CallProvider = {
  source: 'vapi',
  authVariables: ['VAPI_WEBHOOK_SECRET', 'VAPI_WEBHOOK_TOKEN'],
  authenticate,
  interpret(raw, ctx) {
    const read = readVapi(raw, ctx);
    if ('notACall' in read) {
      throw new BadRequest(`a Vapi ${read.messageType} message is not a call (only end-of-call-report is indexed)`, 'not_a_call');
    }
    return read;
  },
  read: readVapi,
};
