import { createHash } from 'node:crypto';
import * as v from 'valibot';
import { BadRequest, Unauthorized } from '#shared/errors';
import { hmacSha256, matchCredential, onPrevious, requireSomeCheck, requireToken, safeEqual, type Match } from '#shared/auth';
import type { CallStatus, Interpretation, InterpretContext, NormalizedCall, Recording } from '#shared/model';
import type { CredentialName, Secrets } from '#shared/config';
import type { WebhookRequest } from '#shared/request';
import { normalizePhone } from '#shared/phone';
import { CALL_SK } from '#shared/table';
import { isPlainObject, parseJsonObject, plainJson, plainObject, setOwn, stringValues } from '../json.ts';
import { audioLink } from '../links.ts';
import { parseInstant, parseSeconds, toIso } from '#shared/time';
import { splitTranscript } from '../transcript.ts';
import { type CallProvider, JsonMap, SafeId, eventVersion, validate } from './types.ts';

/**
 * Synthflow AI voice agents, post-call webhook:
 *   { status, error_message, lead{name, phone_number, prompt_variables},
 *     call{call_id, status, end_call_reason, model_id, timezone, duration,
 *          start_time, transcript, recording_url?, …}, executed_actions{…}, analysis? }
 * `start_time` is ISO-8601 with offset and microseconds, or epoch ms as a string.
 * `end_call_reason` values differ between doc versions: kept verbatim, never rejected.
 *
 * Auth: URL token, always, and when a secret is configured also a signature
 * header = base64 HMAC-SHA256(secret, call.call_id). The signature covers the
 * call id only (so it cannot protect the body: the token does), and the body is
 * parsed (safely, minimally) to check it.
 */

const SIGNATURE_HEADERS = ['synthflow-signature', 'x-synthflow-signature', 'http_synthflow_signature'] as const;

export function synthflowStatus(status: string | undefined | null): CallStatus | undefined {
  if (status === undefined || status === null || status.trim() === '') return undefined;
  switch (status.trim().toLowerCase().replaceAll('_', '-')) {
    case 'completed': case 'complete': case 'ended':
      return 'completed';
    case 'failed': case 'error':
      return 'failed';
    case 'busy':
      return 'busy';
    case 'no-answer': case 'noanswer': case 'not-answered':
      return 'no-answer';
    case 'voicemail': case 'hangup-on-voicemail': case 'left-voicemail':
      return 'voicemail';
    case 'canceled': case 'cancelled':
      return 'canceled';
    case 'transferred':
      return 'transferred';
    case 'in-progress': case 'ongoing': case 'queue': case 'queued': case 'ringing': case 'initiated':
      return 'in-progress';
    default:
      return 'unknown';
  }
}

const Text = v.nullish(v.string());
const Dict = JsonMap;

const SynthflowBody = v.looseObject({
  status: Text,
  error_message: Text,
  lead: v.nullish(v.looseObject({
    name: Text,
    phone_number: v.nullish(v.union([v.string(), v.number()])),
    prompt_variables: Dict,
  })),
  call: v.looseObject({
    call_id: SafeId,
    status: Text,
    end_call_reason: Text,
    model_id: v.nullish(v.union([v.string(), v.number()])),
    timezone: Text,
    duration: v.nullish(v.union([v.number(), v.string()])),
    start_time: v.nullish(v.union([v.string(), v.number()])),
    transcript: Text,
    recording_url: Text,
    summary: Text,
    direction: Text,
    call_type: Text,
    analysis: Dict,
    collected_variables: Dict,
    custom_end_call_reason: Text,
    external_id: v.nullish(v.union([v.string(), v.number()])),
  }),
  executed_actions: Dict,
  analysis: Dict,
  collected_variables: Dict,
  custom_end_call_reason: Text,
});
export type SynthflowBody = v.InferOutput<typeof SynthflowBody>;

/** Minimal shape needed to verify the signature: `call.call_id` as a string. */
function callIdForSignature(raw: Uint8Array): string {
  const body = parseJsonObject(raw);
  const call = body.call;
  const id = isPlainObject(call) ? call.call_id : undefined;
  if (typeof id !== 'string' || id === '') {
    throw new BadRequest('invalid Synthflow call: call.call_id is missing; the signature covers it', 'invalid_payload');
  }
  return id;
}

function authenticate(req: WebhookRequest, secrets: Secrets): CredentialName[] {
  const secret = secrets.SYNTHFLOW_WEBHOOK_SECRET;
  const token = secrets.SYNTHFLOW_WEBHOOK_TOKEN;
  requireSomeCheck('synthflow', Boolean(secret || token), synthflow.authVariables);
  // The signature covers only call.call_id: whoever saw one signed delivery could
  // send any body for that call. The URL token is what protects the body.
  if (!token) {
    throw new Unauthorized(
      'SYNTHFLOW_WEBHOOK_TOKEN is not configured: Synthflow signs only call.call_id, not the body, so its URL token is always required (with the secret, both must pass)',
      'auth_not_configured',
    );
  }
  const tokenMatch = requireToken(req, secrets, 'SYNTHFLOW_WEBHOOK_TOKEN');
  let signatureMatch: Match | undefined;
  if (secret) {
    const presented = SIGNATURE_HEADERS.map((h) => req.headers[h]).find((s) => s !== undefined && s !== '');
    if (presented === undefined) {
      throw new Unauthorized('missing Synthflow-Signature header: generate a webhook secret in Synthflow and configure the same secret here', 'missing_signature');
    }
    const callId = callIdForSignature(req.body);
    signatureMatch = matchCredential(secrets, 'SYNTHFLOW_WEBHOOK_SECRET', (s) => safeEqual(presented, hmacSha256(s, callId).toString('base64')));
    if (!signatureMatch) {
      throw new Unauthorized('invalid Synthflow signature: expected base64 HMAC-SHA256 of call.call_id', 'invalid_signature');
    }
  }
  return onPrevious([['SYNTHFLOW_WEBHOOK_TOKEN', tokenMatch], ['SYNTHFLOW_WEBHOOK_SECRET', signatureMatch]]);
}

/** A link to the vendor's audio: a stable id from the URL, the type from its extension. */
export function recordingFromUrl(url: string | null | undefined): Recording | undefined {
  const link = audioLink(url, 'audio/mpeg');
  if (!link) return undefined;
  return {
    id: `url-${createHash('sha256').update(link.href).digest('hex').slice(0, 24)}`,
    sourceUrl: link.href,
    contentType: link.contentType,
  };
}

/** executed_actions: each action's return value, by action name (plus collected variables). */
function extractedOf(body: SynthflowBody): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [name, action] of Object.entries(body.executed_actions ?? {})) {
    if (!isPlainObject(action) || !('return_value' in action)) continue;
    const value = action.return_value;
    if (value === null || value === undefined) continue;
    setOwn(out, name, plainJson(value));
  }
  const collected = body.call.collected_variables ?? body.collected_variables;
  if (collected && Object.keys(collected).length > 0) out.collected_variables = plainObject(collected);
  // Documented fields kept as sent; labels only hold the analysis' string values.
  const analysis = body.call.analysis ?? body.analysis;
  if (analysis && Object.keys(analysis).length > 0) out.analysis = plainObject(analysis);
  const customReason = body.call.custom_end_call_reason ?? body.custom_end_call_reason;
  if (customReason) out.custom_end_call_reason = customReason;
  if (body.call.external_id !== undefined && body.call.external_id !== null) out.external_id = String(body.call.external_id);
  return Object.keys(out).length > 0 ? out : undefined;
}

function direction(body: SynthflowBody): NormalizedCall['direction'] {
  const d = (body.call.direction ?? body.call.call_type)?.trim().toLowerCase();
  return d === 'inbound' || d === 'outbound' ? d : undefined;
}

export function normalizeSynthflow(body: SynthflowBody, ctx: InterpretContext): Interpretation {
  const { call } = body;
  const started = parseInstant(call.start_time);
  const duration = parseSeconds(call.duration);
  const ended = started !== undefined && duration !== undefined ? started + Math.round(duration * 1000) : undefined;
  const vendorStatus = call.status ?? body.status;
  const status = synthflowStatus(vendorStatus);
  const transcript = call.transcript ? splitTranscript(call.transcript) : [];
  const recording = recordingFromUrl(call.recording_url);
  const phone = body.lead?.phone_number;
  const modelId = call.model_id === undefined || call.model_id === null ? undefined : String(call.model_id);

  const normalized: NormalizedCall = {
    source: 'synthflow',
    callId: call.call_id,
    status,
    // The end reason says most about how the call ended; the status itself is in `status`.
    statusDetail: call.end_call_reason || vendorStatus || undefined,
    direction: direction(body),
    customerNumber: normalizePhone(phone === undefined || phone === null ? undefined : String(phone), ctx.defaultPhoneRegion),
    agent: modelId ? { id: modelId } : undefined,
    startedAt: toIso(started),
    endedAt: toIso(ended),
    durationSec: duration,
    transcript: transcript.length > 0 ? transcript : undefined,
    summary: call.summary ?? undefined,
    extracted: extractedOf(body),
    labels: stringValues(call.analysis ?? body.analysis),
    recordings: recording ? [recording] : [],
  };
  return { call: normalized, sk: CALL_SK, version: eventVersion(ended ?? started, status) };
}

/** The recording "Get a recording" serves for a call whose delivery named no `recording_url`. */
export const API_RECORDING: Recording = { id: 'call-recording', contentType: 'audio/mpeg', viaApi: true };

/**
 * A call that was connected (it lasted) but whose delivery named no
 * `recording_url`: with SYNTHFLOW_API_KEY configured, its recording is fetched
 * through "Get a recording". Without the key, or for a call that never
 * connected, nothing is added (there is nothing to fetch it with, or nothing to fetch).
 */
export function withApiRecording(call: NormalizedCall, secrets: Secrets): NormalizedCall {
  if (call.recordings.length > 0 || !secrets.SYNTHFLOW_API_KEY || !((call.durationSec ?? 0) > 0)) return call;
  return { ...call, recordings: [API_RECORDING] };
}

export const synthflow: CallProvider = {
  source: 'synthflow',
  authVariables: ['SYNTHFLOW_WEBHOOK_SECRET', 'SYNTHFLOW_WEBHOOK_TOKEN'],
  authenticate,
  interpret(raw, ctx) {
    return normalizeSynthflow(validate(SynthflowBody, parseJsonObject(raw), 'invalid Synthflow call'), ctx);
  },
  withApiRecordings: withApiRecording,
};
