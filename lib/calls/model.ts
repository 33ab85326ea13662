import * as v from 'valibot';
import { SOURCES, CALL_STATUSES, type CallRecord, type Recording } from '#shared/model';
import { HOLD_ATTRIBUTE } from '#shared/table';

/**
 * The read side of the call model: index items come back from DynamoDB (network
 * data), so they are validated against a schema of functions/shared/model.ts
 * before anything reads them, and the items of one call are merged into one
 * call (watsonx: one item per recording; Engage Voice: one per agent segment).
 */

const RecordingSchema = v.object({
  id: v.string(),
  s3Key: v.optional(v.string()),
  sourceUrl: v.optional(v.string()),
  contentType: v.string(),
  bytes: v.optional(v.number()),
  sha256: v.optional(v.string()),
  startedAt: v.optional(v.string()),
  endedAt: v.optional(v.string()),
  viaApi: v.optional(v.boolean()),
  archivedAt: v.optional(v.string()),
  archiveStatus: v.optional(v.picklist(['retrying', 'failed'])),
  archiveError: v.optional(v.string()),
  archiveAttempts: v.optional(v.number()),
});

const CallRecordSchema = v.object({
  source: v.picklist(SOURCES),
  callId: v.string(),
  status: v.optional(v.picklist(CALL_STATUSES)),
  statusDetail: v.optional(v.string()),
  direction: v.optional(v.picklist(['inbound', 'outbound'])),
  customerNumber: v.optional(v.string()),
  dialedNumber: v.optional(v.string()),
  agent: v.optional(v.object({ id: v.optional(v.string()), name: v.optional(v.string()) })),
  startedAt: v.optional(v.string()),
  endedAt: v.optional(v.string()),
  durationSec: v.optional(v.number()),
  transcript: v.optional(v.array(v.object({ speaker: v.picklist(['agent', 'customer', 'unknown']), text: v.string() }))),
  summary: v.optional(v.string()),
  extracted: v.optional(v.record(v.string(), v.unknown())),
  labels: v.optional(v.record(v.string(), v.string())),
  recordings: v.array(RecordingSchema),
  rawS3Key: v.string(),
  receivedAt: v.string(),
});

const HoldSchema = v.object({ since: v.optional(v.string()), by: v.optional(v.string()), objectLock: v.optional(v.boolean()) });

const IndexItemSchema = v.object({
  PK: v.string(),
  SK: v.string(),
  source: v.picklist(SOURCES),
  callId: v.string(),
  version: v.number(),
  record: CallRecordSchema,
  [HOLD_ATTRIBUTE]: v.optional(HoldSchema),
});

/** One index item as the read tools see it: its sort key, version and normalized record. */
export interface CallItem {
  sk: string;
  version: number;
  record: CallRecord;
  /** Set by `calls hold` (docs/compliance.md). */
  hold?: v.InferOutput<typeof HoldSchema>;
}

/** A call as the read tools show it: the merged record plus the items it was merged from. */
export interface GroupedCall {
  call: CallRecord;
  items: CallItem[];
}

/** Validates a raw DynamoDB item; undefined for anything that is not a call item. */
export function parseItem(raw: unknown): CallItem | undefined {
  const parsed = v.safeParse(IndexItemSchema, raw);
  if (!parsed.success) return undefined;
  const { SK, version, record, [HOLD_ATTRIBUTE]: hold } = parsed.output;
  return { sk: SK, version, record, ...(hold ? { hold } : {}) };
}

/**
 * Where a recording's audio is (docs/recordings.md, "Statuses"): `stored` came
 * with the delivery (watsonx); a vendor-held one is `pending` until the
 * recordings worker tried it, then `retrying` or `failed` (with the reason),
 * or `archived` once the copy is in the bucket.
 */
export type ArchiveState =
  | { state: 'stored'; s3Key: string }
  | { state: 'archived'; s3Key: string; archivedAt: string; bytes?: number; sha256?: string }
  | { state: 'pending' }
  | { state: 'retrying' | 'failed'; reason: string; attempts?: number }
  | { state: 'none' };

export function archiveState(r: Recording): ArchiveState {
  if (r.s3Key !== undefined) {
    if (r.archivedAt === undefined) return { state: 'stored', s3Key: r.s3Key };
    return { state: 'archived', s3Key: r.s3Key, archivedAt: r.archivedAt, ...(r.bytes !== undefined ? { bytes: r.bytes } : {}), ...(r.sha256 ? { sha256: r.sha256 } : {}) };
  }
  if (r.sourceUrl === undefined && !r.viaApi) return { state: 'none' };
  if (r.archiveStatus) return { state: r.archiveStatus, reason: r.archiveError ?? 'unknown', ...(r.archiveAttempts !== undefined ? { attempts: r.archiveAttempts } : {}) };
  return { state: 'pending' };
}

/**
 * A vendor-held recording not in the bucket and not waiting for a retry (a
 * `retrying` one is still in the queue): what `npm run recordings -- --missing` queues.
 */
export function isMissing(r: Recording): boolean {
  const s = archiveState(r).state;
  return s === 'pending' || s === 'failed';
}

export function callKey(source: string, callId: string): string {
  return `${source}\u0000${callId}`;
}

const time = (iso: string | undefined): number | undefined => {
  if (iso === undefined) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
};

/** When an item ended: its endedAt, else its start plus duration. */
function endOf(r: CallRecord): number | undefined {
  const end = time(r.endedAt);
  if (end !== undefined) return end;
  const start = time(r.startedAt);
  return start !== undefined && r.durationSec !== undefined ? start + r.durationSec * 1000 : undefined;
}

/** Items in call order: by start time, then receive time, then sort key. */
function inCallOrder(a: CallItem, b: CallItem): number {
  const sa = time(a.record.startedAt) ?? time(a.record.receivedAt) ?? 0;
  const sb = time(b.record.startedAt) ?? time(b.record.receivedAt) ?? 0;
  return sa - sb || a.record.receivedAt.localeCompare(b.record.receivedAt) || a.sk.localeCompare(b.sk);
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Merge the items of one call. Rules (documented in docs/calls.md):
 * identity from the items; start = earliest start, end = latest end, duration =
 * the span between them (else the single item's, else the sum); status, agent,
 * summary and archive key from the last item in call order that has them; the
 * first customer / dialed number and direction found; transcripts and
 * recordings concatenated in call order (a recording repeated on several
 * items, same id and location, kept once); extracted and labels merged, later
 * items winning; receivedAt = the latest delivery.
 */
export function mergeItems(items: readonly CallItem[]): GroupedCall {
  const sorted = [...items].sort(inCallOrder);
  const first = sorted[0];
  if (!first) throw new Error('mergeItems needs at least one item');
  const records = sorted.map((i) => i.record);
  const lastWith = <K extends keyof CallRecord>(k: K): CallRecord[K] | undefined =>
    [...records].reverse().find((r) => r[k] !== undefined)?.[k];
  const firstWith = <K extends keyof CallRecord>(k: K): CallRecord[K] | undefined =>
    records.find((r) => r[k] !== undefined)?.[k];

  const starts = records.map((r) => time(r.startedAt)).filter((t) => t !== undefined);
  const ends = records.map(endOf).filter((t) => t !== undefined);
  const start = starts.length ? Math.min(...starts) : undefined;
  const end = ends.length ? Math.max(...ends) : undefined;
  let durationSec: number | undefined;
  if (records.length === 1) durationSec = first.record.durationSec ?? (start !== undefined && end !== undefined ? (end - start) / 1000 : undefined);
  else if (start !== undefined && end !== undefined) durationSec = Math.round((end - start) / 10) / 100;
  else {
    const durations = records.map((r) => r.durationSec).filter((d) => d !== undefined);
    durationSec = durations.length ? durations.reduce((a, b) => a + b, 0) : undefined;
  }

  const transcript = records.flatMap((r) => r.transcript ?? []);
  // A call-level link (Engage Voice recording_url) repeats on every segment: keep it once.
  const recordings: Recording[] = [];
  const seenRecordings = new Set<string>();
  for (const rec of records.flatMap((r) => r.recordings)) {
    const key = `${rec.id}\u0000${rec.s3Key ?? ''}\u0000${rec.sourceUrl ?? ''}`;
    if (seenRecordings.has(key)) continue;
    seenRecordings.add(key);
    recordings.push(rec);
  }
  const extracted = Object.assign({}, ...records.map((r) => r.extracted ?? {})) as Record<string, unknown>;
  const labels = Object.assign({}, ...records.map((r) => r.labels ?? {})) as Record<string, string>;
  const receivedAt = records.map((r) => r.receivedAt).sort().at(-1) ?? first.record.receivedAt;
  const latest = records.find((r) => r.receivedAt === receivedAt) ?? first.record;
  const single = records.length === 1;

  const call: CallRecord = {
    source: first.record.source,
    callId: first.record.callId,
    ...defined('status', lastWith('status')),
    ...defined('statusDetail', lastWith('statusDetail')),
    ...defined('direction', firstWith('direction')),
    ...defined('customerNumber', firstWith('customerNumber')),
    ...defined('dialedNumber', firstWith('dialedNumber')),
    ...defined('agent', lastWith('agent')),
    ...defined('startedAt', single ? first.record.startedAt : start !== undefined ? iso(start) : undefined),
    ...defined('endedAt', single ? first.record.endedAt : end !== undefined ? iso(end) : undefined),
    ...defined('durationSec', durationSec),
    ...(transcript.length ? { transcript } : {}),
    ...defined('summary', lastWith('summary')),
    ...(Object.keys(extracted).length ? { extracted } : {}),
    ...(Object.keys(labels).length ? { labels } : {}),
    recordings,
    rawS3Key: latest.rawS3Key,
    receivedAt,
  };
  return { call, items: sorted };
}

function defined<K extends string, T>(key: K, value: T | undefined): { [P in K]?: T } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: T });
}

/** Group items by (source, callId), keeping the order in which calls were first seen. */
export function groupItems(items: readonly CallItem[]): GroupedCall[] {
  const groups = new Map<string, CallItem[]>();
  for (const item of items) {
    const key = callKey(item.record.source, item.record.callId);
    const list = groups.get(key);
    if (list) list.push(item);
    else groups.set(key, [item]);
  }
  return [...groups.values()].map(mergeItems);
}
