import { createHash } from 'node:crypto';
import { BadRequest } from '#shared/errors';
import type { CallStatus, InterpretContext, Interpretation, NormalizedCall, Recording } from '#shared/model';
import { normalizePhone } from '#shared/phone';
import { parseFields, toPayload, type EngagePayload } from './parse.ts';
import { parseClockDuration, parseIsoInstant, parseLocalDateTime, toIso } from '#shared/time';
import { segmentSk } from '#shared/table';

/**
 * The pure Engage Voice interpreter: archived raw body (+ its content type) →
 * one index item per AGENT SEGMENT. The live handler and the reindex tool both
 * call it, so a rebuilt index equals the live one.
 *
 * Decisions (also in functions/engage-voice/README.md):
 *   - callId = uii (digits, kept as a string); without a uii, `nouii-` and 24 hex
 *     digits of SHA-256(agent id | agent username | ani | dnis | call_start |
 *     recording URL), see callIdOf.
 *   - sk = SEG#<segment id>, the segment id being the first 16 hex digits of
 *     SHA-256(agent id | call_start as sent | agent-perspective recording URL,
 *     else recording URL). A retry of the same segment sends the same three
 *     values; a transfer changes the agent, and each agent segment has its own
 *     recording (and usually a later start), so segments of one uii differ.
 *   - version = endedAt (start + duration) in epoch ms, else startedAt, else 0:
 *     from the payload only, never the receive time, so a retry is a duplicate.
 *   - direction: call_type when sent (INBOUND → inbound; OUTBOUND, MANUAL,
 *     PREVIEW, PREDICTIVE, … → outbound), else an empty dnis means outbound.
 *   - customer: the ani on both directions. Inbound, ani is the caller. Outbound,
 *     RingCX reports the dialed lead's number in ani and leaves dnis empty, so
 *     ani is again the customer; dialedNumber is dnis inbound (our number) and
 *     the customer's number outbound (what the dialer dialed).
 *   - status from the disposition (statusDetail keeps it verbatim); see statusOf.
 */

export const SOURCE = 'engage-voice';

export function shortHash(value: string, hexDigits = 16): string {
  return createHash('sha256').update(value).digest('hex').slice(0, hexDigits);
}

/** Stable segment id: same for retries of one segment, distinct across segments of one uii. */
export function segmentId(p: Pick<EngagePayload, 'agentId' | 'callStart' | 'agentRecordingUrl' | 'recordingUrl'>): string {
  return shortHash([p.agentId ?? '', p.callStart ?? '', p.agentRecordingUrl ?? p.recordingUrl ?? ''].join('|'));
}

/** Prefix of a call id derived for a delivery that carries no uii. */
export const DERIVED_ID_PREFIX = 'nouii-';

/** What the response and docs tell a user whose web service sends no uii. */
export const UII_HINT = 'no uii in the delivery: this segment was stored under a call id derived from its agent, numbers, start and recording; add uii=#uii# to the web service so the segments of one call are grouped under its uii';

/**
 * The call id: the uii, or for a body without one (RingCentral's own JSON
 * example has agentId, agentUsername, ani, dnis, callStart, duration,
 * recordingUrl) a stable id derived from what identifies the segment, so a
 * retry is a duplicate and two segments are two items. 400 when nothing does.
 */
export function callIdOf(p: EngagePayload): string {
  if (p.uii !== undefined) return p.uii;
  const parts = [p.agentId, p.agentUsername, p.ani, p.dnis, p.callStart, p.agentRecordingUrl ?? p.recordingUrl];
  if (parts.every((x) => x === undefined)) {
    throw new BadRequest('uii is required: add uii=#uii# to the web service (or at least ani, dnis, call_start, agent_id and recording_url)', 'invalid_payload');
  }
  return `${DERIVED_ID_PREFIX}${shortHash(parts.map((x) => x ?? '').join('|'), 24)}`;
}

/**
 * Disposition → status. Dispositions are free text the account defines, so
 * only clear words are mapped; anything else (e.g. "Sale", "Resolved") means
 * the agent handled the call: completed.
 */
export function statusOf(disposition: string | undefined): CallStatus {
  const d = (disposition ?? '').toLowerCase();
  if (d === '') return 'completed';
  if (/no[\s_-]*answer|\bnoans\b|unanswered|ring[\s_-]*no[\s_-]*answer/.test(d)) return 'no-answer';
  if (/\bbusy\b/.test(d)) return 'busy';
  if (/voice[\s_-]*mail|answering[\s_-]*machine|\bmachine\b|\bvm\b/.test(d)) return 'voicemail';
  if (/abandon|cancel|hang[\s_-]*up before/.test(d)) return 'canceled';
  if (/transfer/.test(d)) return 'transferred';
  if (/fail|error|disconnected number|invalid number|bad number/.test(d)) return 'failed';
  return 'completed';
}

export function directionOf(p: Pick<EngagePayload, 'callType' | 'dnis'>): 'inbound' | 'outbound' {
  const t = (p.callType ?? '').toLowerCase();
  if (/^(inbound|in|acd|queue)$/.test(t)) return 'inbound';
  if (/outbound|out|manual|preview|predictive|progressive|dial/.test(t)) return 'outbound';
  return p.dnis === undefined ? 'outbound' : 'inbound';
}

const AUDIO_TYPES: Record<string, string> = {
  wav: 'audio/wav', mp3: 'audio/mpeg', ogg: 'audio/ogg', opus: 'audio/ogg', m4a: 'audio/mp4', mp4: 'audio/mp4',
  gsm: 'audio/gsm', flac: 'audio/flac', webm: 'audio/webm',
};

export function guessAudioType(url: string): string {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    path = url;
  }
  const ext = /\.([A-Za-z0-9]{2,5})$/.exec(path)?.[1]?.toLowerCase();
  return (ext && AUDIO_TYPES[ext]) || 'audio/wav';
}

function recordingOf(field: string, url: string): Recording {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BadRequest(`${field} is not a URL`, 'invalid_payload');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new BadRequest(`${field} must be an http(s) URL`, 'invalid_payload');
  }
  // Stored as the URL parser writes it (controls and bidi characters percent-encoded), like Synthflow's;
  // the id stays the hash of the value sent, so a re-delivery keeps its recording id.
  return { id: `url-${shortHash(url)}`, sourceUrl: parsed.href, contentType: guessAudioType(url) };
}

function agentName(p: EngagePayload): string | undefined {
  const full = [p.agentFirstName, p.agentLastName].filter(Boolean).join(' ');
  return full || p.agentName || p.agentUsername;
}

function timeField<T>(field: string, value: T | undefined, expected: string): T {
  if (value === undefined) throw new BadRequest(`${field}: expected ${expected}`, 'invalid_payload');
  return value;
}

/** Payload (already validated) → normalized call. */
export function normalize(p: EngagePayload, ctx: InterpretContext): NormalizedCall {
  // call_start is the account's wall clock; one that does carry Z or an offset is honoured as such.
  const startedAt = p.callStart === undefined ? undefined
    : toIso(timeField('call_start', parseIsoInstant(p.callStart) ?? parseLocalDateTime(p.callStart, ctx.engageTimeZone), 'YYYY-MM-DD HH:MM:SS[.ffff]'));
  const durationSec = p.duration === undefined ? undefined : timeField('duration', parseClockDuration(p.duration), 'seconds, HH:MM:SS or MM:SS');
  const endedAt = startedAt !== undefined && durationSec !== undefined
    ? new Date(Date.parse(startedAt) + Math.round(durationSec * 1000)).toISOString()
    : undefined;
  const direction = directionOf(p);
  const ani = normalizePhone(p.ani, ctx.defaultPhoneRegion);
  const dnis = normalizePhone(p.dnis, ctx.defaultPhoneRegion);
  const recordings: Recording[] = [];
  if (p.agentRecordingUrl) recordings.push(recordingOf('sess_agent_perspective_recording_url', p.agentRecordingUrl));
  if (p.recordingUrl && p.recordingUrl !== p.agentRecordingUrl) recordings.push(recordingOf('recording_url', p.recordingUrl));
  for (const r of recordings) {
    if (startedAt) r.startedAt = startedAt;
    if (endedAt) r.endedAt = endedAt;
  }
  const name = agentName(p);
  const agent = p.agentId !== undefined || name !== undefined
    ? { ...(p.agentId !== undefined ? { id: p.agentId } : {}), ...(name !== undefined ? { name } : {}) }
    : undefined;
  const extracted: Record<string, unknown> = { ...p.other };
  if (p.agentUsername !== undefined) extracted.agent_username = p.agentUsername;
  if (p.callType !== undefined) extracted.call_type = p.callType;
  const call: NormalizedCall = {
    source: SOURCE,
    callId: callIdOf(p),
    status: statusOf(p.disposition),
    direction,
    recordings,
  };
  if (p.disposition !== undefined) call.statusDetail = p.disposition;
  const customer = ani;
  const dialed = direction === 'inbound' ? dnis : ani;
  if (customer !== undefined) call.customerNumber = customer;
  if (dialed !== undefined) call.dialedNumber = dialed;
  if (agent) call.agent = agent;
  if (startedAt !== undefined) call.startedAt = startedAt;
  if (endedAt !== undefined) call.endedAt = endedAt;
  if (durationSec !== undefined) call.durationSec = durationSec;
  if (Object.keys(extracted).length > 0) call.extracted = extracted;
  return call;
}

export function versionOf(call: Pick<NormalizedCall, 'startedAt' | 'endedAt'>): number {
  const at = call.endedAt ?? call.startedAt;
  return at === undefined ? 0 : Date.parse(at);
}

/** Raw archived body → the index item's call, sort key and version. Throws typed 4xx on bad input. */
export function interpretEngage(raw: Uint8Array, contentType: string, ctx: InterpretContext): Interpretation {
  const payload = toPayload(parseFields(raw, contentType));
  const call = normalize(payload, ctx);
  return { call, sk: segmentSk(segmentId(payload)), version: versionOf(call) };
}
