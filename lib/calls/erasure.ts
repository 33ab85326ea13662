import { createHmac, randomUUID } from 'node:crypto';
import {
  DeleteObjectCommand, GetBucketVersioningCommand, GetObjectLegalHoldCommand, GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand, ListObjectsV2Command, ListObjectVersionsCommand, PutObjectCommand, PutObjectLegalHoldCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SOURCES, type Source } from '#shared/model';
import { HOLD_ATTRIBUTE, LEGACY_INDEX_NAMES, TABLE_SCHEMA, TTL_ATTRIBUTE, callPk, phonePk, readableIndex } from '#shared/table';
import { datePath, keySegment } from '#shared/keys';

/**
 * Erasure and legal holds of whole calls (docs/compliance.md), with the
 * operator's credentials:
 *  - a call's objects are found by listing its prefixes — raw/<source>/<day>/<callId>/
 *    and audio/<source>/<day>/<callId>/ for every day its items mention — plus
 *    every raw/ or audio/ key its items record; each prefix is listed with
 *    ListObjectVersions when the bucket is versioned, so every version and
 *    delete marker is found;
 *  - erasure deletes exactly what was listed (by version id when versioned),
 *    objects first (they are what a reindex rebuilds from), then the items,
 *    then lists again to prove nothing is left, and writes a receipt under
 *    receipts/ with keys, version ids and counts but no personal data;
 *  - a call with a hold (the index mark, an S3 legal hold, or an unexpired
 *    Object Lock retention) is refused, never forced.
 */

export const RECEIPTS_PREFIX = 'receipts/';
/** Attribute that keeps a held item's TTL until the hold is lifted. */
export const HELD_TTL_ATTRIBUTE = 'heldExpiresAt';

export interface ErasureStore {
  s3: S3Client;
  ddb: DynamoDBDocumentClient;
  bucketName: string;
  tableName: string;
}

export interface CallRef {
  source: Source;
  callId: string;
}

export interface BucketFeatures {
  /** ListObjectVersions and version-id deletes (Enabled or Suspended). */
  versioned: boolean;
  /** Object Lock enabled on the bucket: legal holds can be placed. */
  objectLock: boolean;
}

export interface ObjectVersion {
  key: string;
  /** Absent when the bucket was never versioned (s3rver): the key is the object. */
  versionId?: string;
  deleteMarker: boolean;
}

export interface Hold {
  since: string;
  by: string;
  objectLock: boolean;
}

export interface CallItemKey {
  PK: string;
  SK: string;
}

export interface CallPlan extends CallRef {
  items: (CallItemKey & { hold?: Hold; expiresAt?: number; heldExpiresAt?: number })[];
  objects: ObjectVersion[];
  /** Prefixes listed (and exact keys looked up) to find the objects. */
  searched: string[];
  /** Why this call may not be erased (holds); empty when it may. */
  refusals: string[];
}

const errorName = (err: unknown) => (err instanceof Error ? err.name : '');
const httpStatus = (err: unknown) => (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

export async function bucketFeatures(store: ErasureStore): Promise<BucketFeatures> {
  const versioning = await store.s3.send(new GetBucketVersioningCommand({ Bucket: store.bucketName }));
  let objectLock = false;
  try {
    const lock = await store.s3.send(new GetObjectLockConfigurationCommand({ Bucket: store.bucketName }));
    objectLock = lock.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled';
  } catch (err) {
    // No configuration (S3), or a server without Object Lock at all (s3rver answers 501).
    if (errorName(err) !== 'ObjectLockConfigurationNotFoundError' && httpStatus(err) !== 501) throw err;
  }
  return { versioned: versioning.Status === 'Enabled' || versioning.Status === 'Suspended', objectLock };
}

/** PK → call, whatever an index projects (table keys are always projected). */
export function refOfPk(pk: string): CallRef | undefined {
  const m = /^CALL#([^#]+)#(.+)$/.exec(pk);
  if (!m?.[1] || !m[2] || !(SOURCES as readonly string[]).includes(m[1])) return undefined;
  return { source: m[1] as Source, callId: m[2] };
}

/**
 * Every call with an item in the phone index under this E.164 number: the slim
 * index once complete, the legacy ByPhone while a stack migrates; never one
 * still backfilling, which could miss a call and leave it unerased.
 */
export async function callsByPhone(store: ErasureStore, e164: string): Promise<CallRef[]> {
  const { partitionKey } = TABLE_SCHEMA.indexes.byPhone;
  const table = await store.ddb.send(new DescribeTableCommand({ TableName: store.tableName }));
  const indexName = readableIndex('byPhone', table.Table?.GlobalSecondaryIndexes ?? []);
  if (!indexName) {
    throw new Error(`table ${store.tableName} has no complete ${TABLE_SCHEMA.indexes.byPhone.indexName} index (nor ${LEGACY_INDEX_NAMES.byPhone}): retry when it is ACTIVE`);
  }
  const found = new Map<string, CallRef>();
  let start: Record<string, unknown> | undefined;
  do {
    const out = await store.ddb.send(new QueryCommand({
      TableName: store.tableName,
      IndexName: indexName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': partitionKey },
      ExpressionAttributeValues: { ':pk': phonePk(e164) },
      ExclusiveStartKey: start,
    }));
    for (const item of out.Items ?? []) {
      const ref = typeof item.PK === 'string' ? refOfPk(item.PK) : undefined;
      if (ref) found.set(item.PK as string, ref);
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return [...found.values()];
}

async function itemsOf(store: ErasureStore, ref: CallRef): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await store.ddb.send(new QueryCommand({
      TableName: store.tableName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': TABLE_SCHEMA.partitionKey },
      ExpressionAttributeValues: { ':pk': callPk(ref.source, ref.callId) },
      ConsistentRead: true,
      ExclusiveStartKey: start,
    }));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) strings(v, out);
  return out;
}

/**
 * Where a call's objects are: its day prefixes under raw/ and audio/ (days
 * from the items' start and receive times, and any the user adds), the
 * folders of the keys its items record when they are the call's own, and
 * those keys themselves.
 */
export function callLocations(ref: CallRef, items: readonly Record<string, unknown>[], extraDays: readonly string[] = []): { prefixes: string[]; keys: string[] } {
  let segment: string;
  try {
    segment = keySegment(ref.callId);
  } catch {
    return { prefixes: [], keys: [] };
  }
  const days = new Set(extraDays.map((d) => datePath(d)));
  const keys = new Set<string>();
  for (const item of items) {
    const record = item.record as Record<string, unknown> | undefined;
    for (const at of [record?.startedAt, record?.receivedAt]) {
      if (typeof at === 'string' && /^\d{4}-\d{2}-\d{2}/.test(at)) days.add(datePath(at));
    }
    for (const s of strings(item)) if (/^(raw|audio)\/[^\s]+[^/]$/.test(s)) keys.add(s);
  }
  const prefixes = new Set<string>();
  for (const day of days) for (const top of ['raw', 'audio']) prefixes.add(`${top}/${ref.source}/${day}/${segment}/`);
  for (const key of keys) {
    const dir = key.slice(0, key.lastIndexOf('/') + 1);
    if (dir.startsWith(`raw/${ref.source}/`) || dir.startsWith(`audio/${ref.source}/`)) {
      if (dir.endsWith(`/${segment}/`)) prefixes.add(dir);
    }
  }
  const loose = [...keys].filter((k) => ![...prefixes].some((p) => k.startsWith(p)));
  return { prefixes: [...prefixes].sort(), keys: loose.sort() };
}

/** Every object (every version and delete marker, when versioned) under a prefix. */
export async function listVersions(store: ErasureStore, features: BucketFeatures, prefix: string): Promise<ObjectVersion[]> {
  const found: ObjectVersion[] = [];
  if (features.versioned) {
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    do {
      const out = await store.s3.send(new ListObjectVersionsCommand({
        Bucket: store.bucketName, Prefix: prefix, KeyMarker: keyMarker, VersionIdMarker: versionMarker,
      }));
      for (const v of out.Versions ?? []) if (v.Key && v.VersionId) found.push({ key: v.Key, versionId: v.VersionId, deleteMarker: false });
      for (const m of out.DeleteMarkers ?? []) if (m.Key && m.VersionId) found.push({ key: m.Key, versionId: m.VersionId, deleteMarker: true });
      keyMarker = out.IsTruncated ? out.NextKeyMarker : undefined;
      versionMarker = out.IsTruncated ? out.NextVersionIdMarker : undefined;
    } while (keyMarker !== undefined);
  } else {
    let token: string | undefined;
    do {
      const out = await store.s3.send(new ListObjectsV2Command({ Bucket: store.bucketName, Prefix: prefix, ContinuationToken: token }));
      for (const o of out.Contents ?? []) if (o.Key) found.push({ key: o.Key, deleteMarker: false });
      token = out.NextContinuationToken;
    } while (token);
  }
  return found;
}

async function objectsAt(store: ErasureStore, features: BucketFeatures, where: { prefixes: string[]; keys: string[] }): Promise<ObjectVersion[]> {
  const all = new Map<string, ObjectVersion>();
  const add = (v: ObjectVersion) => all.set(`${v.key}\u0000${v.versionId ?? ''}`, v);
  for (const prefix of where.prefixes) for (const v of await listVersions(store, features, prefix)) add(v);
  for (const key of where.keys) for (const v of await listVersions(store, features, key)) if (v.key === key) add(v);
  return [...all.values()].sort((a, b) => a.key.localeCompare(b.key) || (a.versionId ?? '').localeCompare(b.versionId ?? ''));
}

/** Why S3 itself would refuse to delete this version: a legal hold, or an unexpired retention. */
async function lockRefusal(store: ErasureStore, v: ObjectVersion, now: Date): Promise<string | undefined> {
  if (v.deleteMarker) return undefined;
  const at = { Bucket: store.bucketName, Key: v.key, ...(v.versionId ? { VersionId: v.versionId } : {}) };
  const noConfig = (err: unknown) => errorName(err) === 'NoSuchObjectLockConfiguration';
  try {
    const hold = await store.s3.send(new GetObjectLegalHoldCommand(at));
    if (hold.LegalHold?.Status === 'ON') return `${v.key} (version ${v.versionId ?? 'null'}) has an S3 legal hold`;
  } catch (err) {
    if (!noConfig(err)) throw err;
  }
  try {
    const retention = await store.s3.send(new GetObjectRetentionCommand(at));
    const until = retention.Retention?.RetainUntilDate;
    if (until && until.getTime() > now.getTime()) {
      return `${v.key} (version ${v.versionId ?? 'null'}) is under Object Lock ${retention.Retention?.Mode ?? ''} retention until ${until.toISOString()}`;
    }
  } catch (err) {
    if (!noConfig(err)) throw err;
  }
  return undefined;
}

function holdOf(item: Record<string, unknown>): Hold | undefined {
  const h = item[HOLD_ATTRIBUTE];
  if (!h || typeof h !== 'object') return undefined;
  const { since, by, objectLock } = h as Record<string, unknown>;
  return { since: typeof since === 'string' ? since : '', by: typeof by === 'string' ? by : '', objectLock: objectLock === true };
}

const num = (v: unknown) => (typeof v === 'number' ? v : undefined);

/** What erasing (or holding) these calls would touch, and what refuses it. Reads only. */
export async function planCalls(store: ErasureStore, features: BucketFeatures, refs: readonly CallRef[], opts: { extraDays?: string[]; now?: Date } = {}): Promise<CallPlan[]> {
  const now = opts.now ?? new Date();
  const plans: CallPlan[] = [];
  for (const ref of refs) {
    const raw = await itemsOf(store, ref);
    const where = callLocations(ref, raw, opts.extraDays);
    const objects = await objectsAt(store, features, where);
    const items = raw.map((item) => {
      const hold = holdOf(item);
      const expiresAt = num(item[TTL_ATTRIBUTE]);
      const heldExpiresAt = num(item[HELD_TTL_ATTRIBUTE]);
      return {
        PK: String(item[TABLE_SCHEMA.partitionKey]), SK: String(item[TABLE_SCHEMA.sortKey]),
        ...(hold ? { hold } : {}), ...(expiresAt !== undefined ? { expiresAt } : {}), ...(heldExpiresAt !== undefined ? { heldExpiresAt } : {}),
      };
    });
    const refusals: string[] = [];
    const held = items.find((i) => i.hold);
    if (held?.hold) refusals.push(`on hold since ${held.hold.since || 'an unknown time'}${held.hold.by ? ` (by ${held.hold.by})` : ''}`);
    if (features.objectLock) {
      for (const v of objects) {
        const why = await lockRefusal(store, v, now);
        if (why) refusals.push(why);
      }
    }
    plans.push({ ...ref, items, objects, searched: [...where.prefixes, ...where.keys], refusals });
  }
  return plans;
}

export interface ErasedCall extends CallRef {
  items: CallItemKey[];
  objects: ObjectVersion[];
  failed: { what: string; error: string }[];
  /** What a second listing still found (a delivery that arrived meanwhile, or a failure). */
  remaining: { items: number; objects: number };
}

/**
 * Deletes exactly what the plans list: object versions first (so a failure
 * leaves the call findable, and a reindex has nothing to rebuild once they are
 * gone), then the items (unless a hold appeared meanwhile), then lists again.
 * Refuses to start when any plan has a refusal.
 */
export async function eraseCalls(store: ErasureStore, features: BucketFeatures, plans: readonly CallPlan[], opts: { extraDays?: string[] } = {}): Promise<ErasedCall[]> {
  const refused = plans.filter((p) => p.refusals.length);
  if (refused.length) throw new Error(`refusing to erase held calls: ${refused.map((p) => `${p.source} ${p.callId}`).join(', ')}`);
  const results: ErasedCall[] = [];
  for (const plan of plans) {
    const result: ErasedCall = { source: plan.source, callId: plan.callId, items: [], objects: [], failed: [], remaining: { items: 0, objects: 0 } };
    for (const v of plan.objects) {
      try {
        await store.s3.send(new DeleteObjectCommand({ Bucket: store.bucketName, Key: v.key, ...(v.versionId ? { VersionId: v.versionId } : {}) }));
        result.objects.push(v);
      } catch (err) {
        result.failed.push({ what: `${v.key}${v.versionId ? ` version ${v.versionId}` : ''}`, error: `${errorName(err)}: ${err instanceof Error ? err.message : String(err)}` });
      }
    }
    if (!result.failed.length) {
      for (const item of plan.items) {
        try {
          await store.ddb.send(new DeleteCommand({
            TableName: store.tableName,
            Key: { [TABLE_SCHEMA.partitionKey]: item.PK, [TABLE_SCHEMA.sortKey]: item.SK },
            ConditionExpression: 'attribute_not_exists(#hold)',
            ExpressionAttributeNames: { '#hold': HOLD_ATTRIBUTE },
          }));
          result.items.push({ PK: item.PK, SK: item.SK });
        } catch (err) {
          result.failed.push({ what: `item ${item.SK}`, error: errorName(err) === 'ConditionalCheckFailedException' ? 'a hold was placed meanwhile' : `${errorName(err)}: ${err instanceof Error ? err.message : String(err)}` });
        }
      }
    }
    const [again] = await planCalls(store, { ...features, objectLock: false }, [plan], opts.extraDays ? { extraDays: opts.extraDays } : {});
    result.remaining = { items: again?.items.length ?? 0, objects: again?.objects.length ?? 0 };
    results.push(result);
  }
  return results;
}

/** Keyed hash of a phone number for receipts: matches only for someone holding the deployment's receipt key. */
export function phoneHash(receiptKey: string, e164: string): string {
  return `hmac-sha256:${createHmac('sha256', receiptKey).update(e164).digest('hex')}`;
}

export type ErasureRequest = { by: 'call'; source: Source; callId: string } | { by: 'phone'; phoneHash: string };

export interface Receipt {
  type: 'erasure-receipt';
  receiptId: string;
  erasedAt: string;
  principal: string;
  request: ErasureRequest;
  bucket: { name: string; versioned: boolean; objectLock: boolean };
  table: string;
  calls: { source: Source; callId: string; items: CallItemKey[]; objects: { key: string; versionId: string | null; deleteMarker: boolean }[]; failed: ErasedCall['failed']; remaining: ErasedCall['remaining'] }[];
  counts: { calls: number; items: number; objects: number; versions: number; failed: number };
  /** Every listed thing deleted and a second listing found nothing. */
  complete: boolean;
}

export function buildReceipt(args: { request: ErasureRequest; principal: string; store: ErasureStore; features: BucketFeatures; erased: readonly ErasedCall[]; now?: Date }): Receipt {
  const { erased } = args;
  const versions = erased.flatMap((c) => c.objects);
  return {
    type: 'erasure-receipt',
    receiptId: randomUUID(),
    erasedAt: (args.now ?? new Date()).toISOString(),
    principal: args.principal,
    request: args.request,
    bucket: { name: args.store.bucketName, ...args.features },
    table: args.store.tableName,
    calls: erased.map((c) => ({
      source: c.source, callId: c.callId, items: c.items,
      objects: c.objects.map((o) => ({ key: o.key, versionId: o.versionId ?? null, deleteMarker: o.deleteMarker })),
      failed: c.failed, remaining: c.remaining,
    })),
    counts: {
      calls: erased.length,
      items: erased.reduce((n, c) => n + c.items.length, 0),
      objects: new Set(versions.map((v) => v.key)).size,
      versions: versions.length,
      failed: erased.reduce((n, c) => n + c.failed.length, 0),
    },
    complete: erased.every((c) => !c.failed.length && !c.remaining.items && !c.remaining.objects),
  };
}

export function receiptKeyFor(r: Pick<Receipt, 'erasedAt' | 'receiptId'>): string {
  return `${RECEIPTS_PREFIX}${datePath(r.erasedAt)}/${r.erasedAt.replace(/[-:.]/g, '')}-${r.receiptId}.json`;
}

export async function writeReceipt(store: ErasureStore, receipt: Receipt): Promise<string> {
  const key = receiptKeyFor(receipt);
  const body = Buffer.from(JSON.stringify(receipt, null, 2) + '\n');
  await store.s3.send(new PutObjectCommand({
    Bucket: store.bucketName, Key: key, Body: body, ContentType: 'application/json', ContentLength: body.byteLength, IfNoneMatch: '*',
  }));
  return key;
}

export interface HoldResult {
  objects: ObjectVersion[];
  items: CallItemKey[];
}

/**
 * Places (or lifts) a hold on one call: an S3 legal hold on every version of
 * every object when the bucket has Object Lock, and the index mark on every
 * item (a held item keeps its TTL aside, so DynamoDB does not expire it).
 */
export async function setHold(store: ErasureStore, features: BucketFeatures, plan: CallPlan, on: boolean, by: string, now = new Date()): Promise<HoldResult> {
  const result: HoldResult = { objects: [], items: [] };
  if (features.objectLock) {
    for (const v of plan.objects) {
      if (v.deleteMarker) continue;
      await store.s3.send(new PutObjectLegalHoldCommand({
        Bucket: store.bucketName, Key: v.key, ...(v.versionId ? { VersionId: v.versionId } : {}), LegalHold: { Status: on ? 'ON' : 'OFF' },
      }));
      result.objects.push(v);
    }
  }
  for (const item of plan.items) {
    const Key = { [TABLE_SCHEMA.partitionKey]: item.PK, [TABLE_SCHEMA.sortKey]: item.SK };
    const names: Record<string, string> = { '#pk': TABLE_SCHEMA.partitionKey, '#hold': HOLD_ATTRIBUTE, '#ttl': TTL_ATTRIBUTE, '#saved': HELD_TTL_ATTRIBUTE };
    if (on) {
      const saved = item.heldExpiresAt ?? item.expiresAt;
      await store.ddb.send(new UpdateCommand({
        TableName: store.tableName, Key,
        ConditionExpression: 'attribute_exists(#pk)',
        UpdateExpression: saved !== undefined ? 'SET #hold = :hold, #saved = :saved REMOVE #ttl' : 'SET #hold = :hold REMOVE #ttl, #saved',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':hold': { since: item.hold?.since ?? now.toISOString(), by, objectLock: features.objectLock }, ...(saved !== undefined ? { ':saved': saved } : {}) },
      }));
    } else {
      const saved = item.heldExpiresAt;
      await store.ddb.send(new UpdateCommand({
        TableName: store.tableName, Key,
        ConditionExpression: 'attribute_exists(#pk)',
        UpdateExpression: saved !== undefined ? 'SET #ttl = :saved REMOVE #hold, #saved' : 'REMOVE #hold, #saved',
        ExpressionAttributeNames: saved !== undefined ? names : { '#pk': names['#pk']!, '#hold': HOLD_ATTRIBUTE, '#saved': HELD_TTL_ATTRIBUTE },
        ...(saved !== undefined ? { ExpressionAttributeValues: { ':saved': saved } } : {}),
      }));
    }
    result.items.push({ PK: item.PK, SK: item.SK });
  }
  return result;
}
