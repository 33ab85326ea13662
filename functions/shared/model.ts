/**
 * The one call model every vendor is normalized into.
 * A field means the same thing whichever vendor filled it in.
 */

/** The sources are declared once, in the registry. */
export { SOURCES, isSource, type Source } from './sources.ts';
import type { Source } from './sources.ts';

export const CALL_STATUSES = [
  'completed', 'failed', 'no-answer', 'busy', 'voicemail', 'canceled', 'transferred', 'in-progress', 'unknown',
] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

export type Speaker = 'agent' | 'customer' | 'unknown';

export interface TranscriptTurn {
  speaker: Speaker;
  text: string;
}

export interface Recording {
  /** Vendor's recording id (watsonx recording_id), or a stable id derived from the URL. */
  id: string;
  /** Where we stored the audio in our bucket, when we hold the bytes. */
  s3Key?: string;
  /** Where the vendor serves the audio, when it only sent a link. */
  sourceUrl?: string;
  /** The vendor holds it but the delivery named no link: fetched through its API (Synthflow "Get a recording"). */
  viaApi?: boolean;
  contentType: string;
  bytes?: number;
  /** SHA-256 (hex) of the audio bytes exactly as received. */
  sha256?: string;
  startedAt?: string;
  endedAt?: string;
  /** When the vendor's audio was copied into our bucket (then `s3Key`, `bytes`, `sha256` are the copy's). */
  archivedAt?: string;
  /** A linked recording not copied yet: `retrying` after a failed attempt, `failed` after the last one. */
  archiveStatus?: 'retrying' | 'failed';
  /** Why the last attempt failed: a short code such as `http_404` or `refused_address`. */
  archiveError?: string;
  archiveAttempts?: number;
}

export interface Agent {
  id?: string;
  name?: string;
}

/** A field of the call that the index item leaves out; the raw archive (`rawS3Key`) holds it. */
export interface ArchivedField {
  field: string;
  /** Why, e.g. `too large for one index item`. */
  reason: string;
}

/** One normalized call (or, for watsonx and Engage Voice, one recording / agent segment of it). */
export interface CallRecord {
  source: Source;
  /** watsonx session_id, Volubile id, Synthflow call_id, Engage Voice uii, Vapi call.id. */
  callId: string;
  status?: CallStatus;
  /** The vendor's own status or end reason, verbatim. */
  statusDetail?: string;
  direction?: 'inbound' | 'outbound';
  /** E.164 when it can be made so, else the vendor's string (possibly masked). */
  customerNumber?: string;
  dialedNumber?: string;
  agent?: Agent;
  /** ISO-8601 UTC. */
  startedAt?: string;
  endedAt?: string;
  durationSec?: number;
  transcript?: TranscriptTurn[];
  summary?: string;
  extracted?: Record<string, unknown>;
  labels?: Record<string, string>;
  recordings: Recording[];
  /** Key of the request body as archived in S3. */
  rawS3Key: string;
  /** When our endpoint received the delivery, ISO-8601 UTC. */
  receivedAt: string;
  /** Only on index items: fields too large or too odd for DynamoDB, read them from the raw archive. */
  archivedOnly?: ArchivedField[];
}

/** What a vendor adapter produces before storage assigns archive keys. */
export type NormalizedCall = Omit<CallRecord, 'rawS3Key' | 'receivedAt'>;

/**
 * What a source's pure interpreter makes of an (authenticated) raw body: the
 * normalized call, the sort key of its index item, and the version that orders
 * events for that item (highest wins; epoch ms of the vendor's event time).
 * The handler and the reindex tool both go through it, so a rebuilt index
 * equals the live one.
 */
export interface Interpretation {
  call: NormalizedCall;
  sk: string;
  version: number;
  /** Tells a retry (same digest) from another delivery of the same rank; default: the SHA-256 of the raw body. */
  digest?: string;
}

/** What interpreters may depend on besides the bytes. */
export interface InterpretContext {
  engageTimeZone: string;
  defaultPhoneRegion: string;
  receivedAt: Date;
}
