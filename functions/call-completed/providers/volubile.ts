import * as v from 'valibot';
import { Unauthorized } from '#shared/errors';
import { hmacSha256, matchCredential, onPrevious, requireSomeCheck, requireToken, safeEqual, type Match } from '#shared/auth';
import type { CredentialName } from '#shared/config';
import type { CallStatus, Interpretation, InterpretContext, NormalizedCall } from '#shared/model';
import { normalizePhone } from '#shared/phone';
import { CALL_SK } from '#shared/table';
import { isPlainObject, parseJsonObject, plainObject, stringValues } from '../json.ts';
import { parseInstant, parseSeconds, toIso } from '#shared/time';
import { splitTranscript, turnsFromList } from '../transcript.ts';
import { type CallProvider, JsonMap, SafeId, eventVersion, validate } from './types.ts';

/**
 * Volubile AI voice agents. The webhook body is the "Get a call" object:
 * id, agentId, phone, type (INBOUND|OUTBOUND), duration, startTime, endTime,
 * status, extractors/classifiers (lists) and their flattened maps — named
 * `extractorData`/`classifierData` in the webhook docs and
 * `extractedData`/`classificationData` in the API docs — context (with the
 * reserved `system.phone` flat or `system: { phone }` nested), summary, created.
 *
 * Auth: `X-Webhook-Signature` = lowercase hex HMAC-SHA256(secret, raw body),
 * and/or the URL token. Every configured check must pass; none → refuse.
 */

const StatusMap: Record<string, CallStatus> = {
  IN_PROGRESS: 'in-progress',
  CANCELED: 'canceled',
  COMPLETED: 'completed',
  NO_ANSWER: 'no-answer',
  VOICE_BOX: 'voicemail',
  UNREACHABLE: 'failed',
  FAILED: 'failed',
  TRANSFERRED: 'transferred',
  REJECTED: 'busy',
};

export function volubileStatus(status: string | undefined | null): CallStatus | undefined {
  if (status === undefined || status === null || status === '') return undefined;
  return StatusMap[status.trim().toUpperCase()] ?? 'unknown';
}

const Text = v.nullish(v.string());
const Dict = JsonMap;

const VolubileCall = v.looseObject({
  id: SafeId,
  agentId: v.nullish(v.union([v.string(), v.number()])),
  phone: Text,
  type: Text,
  duration: v.nullish(v.union([v.number(), v.string()])),
  startTime: Text,
  endTime: Text,
  updatedAt: Text,
  created: Text,
  status: Text,
  extractorData: Dict,
  extractedData: Dict,
  classifierData: Dict,
  classificationData: Dict,
  context: Dict,
  summary: Text,
  transcript: v.nullish(v.union([v.string(), v.array(v.unknown())])),
});
export type VolubileCall = v.InferOutput<typeof VolubileCall>;

const SIGNATURE = /^[0-9a-f]{64}$/;

function authenticate(req: Parameters<CallProvider['authenticate']>[0], secrets: Parameters<CallProvider['authenticate']>[1]): CredentialName[] {
  const secret = secrets.VOLUBILE_WEBHOOK_SECRET;
  const token = secrets.VOLUBILE_WEBHOOK_TOKEN;
  requireSomeCheck('volubile', Boolean(secret || token), volubile.authVariables);
  const tokenMatch = token ? requireToken(req, secrets, 'VOLUBILE_WEBHOOK_TOKEN') : undefined;
  let signatureMatch: Match | undefined;
  if (secret) {
    const presented = req.headers['x-webhook-signature'];
    if (presented === undefined || presented === '') {
      throw new Unauthorized('missing X-Webhook-Signature header: enable webhook signing in Volubile and configure the same secret here', 'missing_signature');
    }
    // The format check only decides which message to give; the comparisons themselves are constant time.
    signatureMatch = SIGNATURE.test(presented)
      ? matchCredential(secrets, 'VOLUBILE_WEBHOOK_SECRET', (s) => safeEqual(presented, hmacSha256(s, req.body).toString('hex')))
      : undefined;
    if (!signatureMatch) {
      throw new Unauthorized('invalid X-Webhook-Signature: expected lowercase hex HMAC-SHA256 of the raw body', 'invalid_signature');
    }
  }
  return onPrevious([['VOLUBILE_WEBHOOK_TOKEN', tokenMatch], ['VOLUBILE_WEBHOOK_SECRET', signatureMatch]]);
}

/** `context["system.phone"]` or `context.system.phone`. */
function contextPhone(context: Record<string, unknown> | null | undefined): string | undefined {
  if (!context) return undefined;
  const flat = context['system.phone'];
  if (typeof flat === 'string') return flat;
  const system = context.system;
  if (isPlainObject(system) && typeof system.phone === 'string') return system.phone;
  return undefined;
}

function direction(type: string | null | undefined): NormalizedCall['direction'] {
  const t = type?.trim().toUpperCase();
  return t === 'INBOUND' ? 'inbound' : t === 'OUTBOUND' ? 'outbound' : undefined;
}

function nonEmpty<T extends object>(o: T | undefined): T | undefined {
  return o && Object.keys(o).length > 0 ? o : undefined;
}

export function normalizeVolubile(body: VolubileCall, ctx: InterpretContext): Interpretation {
  const started = parseInstant(body.startTime);
  const ended = parseInstant(body.endTime);
  const updated = parseInstant(body.updatedAt);
  const created = parseInstant(body.created);
  const status = volubileStatus(body.status);
  const extractedRaw = body.extractorData ?? body.extractedData;
  const labels = stringValues(body.classifierData ?? body.classificationData);
  const transcript = typeof body.transcript === 'string' ? splitTranscript(body.transcript)
    : Array.isArray(body.transcript) ? turnsFromList(body.transcript) : [];
  const phone = normalizePhone(body.phone ?? contextPhone(body.context), ctx.defaultPhoneRegion);
  const agentId = body.agentId === undefined || body.agentId === null ? undefined : String(body.agentId);

  const call: NormalizedCall = {
    source: 'volubile',
    callId: body.id,
    status,
    statusDetail: body.status ?? undefined,
    direction: direction(body.type),
    customerNumber: phone,
    agent: agentId ? { id: agentId } : undefined,
    startedAt: toIso(started),
    endedAt: toIso(ended),
    durationSec: parseSeconds(body.duration) ?? (started !== undefined && ended !== undefined && ended >= started ? (ended - started) / 1000 : undefined),
    transcript: transcript.length > 0 ? transcript : undefined,
    summary: body.summary ?? undefined,
    extracted: nonEmpty(extractedRaw ? plainObject(extractedRaw) : undefined),
    labels,
    recordings: [],
  };
  // Latest vendor time the payload carries; `created` (record creation) only when it has no other.
  const times = [updated, ended, started].filter((t): t is number => t !== undefined);
  const eventMs = times.length > 0 ? Math.max(...times) : created;
  return { call, sk: CALL_SK, version: eventVersion(eventMs, status) };
}

export const volubile: CallProvider = {
  source: 'volubile',
  authVariables: ['VOLUBILE_WEBHOOK_SECRET', 'VOLUBILE_WEBHOOK_TOKEN'],
  authenticate,
  interpret(raw, ctx) {
    return normalizeVolubile(validate(VolubileCall, parseJsonObject(raw), 'invalid Volubile call'), ctx);
  },
};
