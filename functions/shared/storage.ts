import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { ServiceUnavailable } from './errors.ts';
import type { CallRecord, NormalizedCall, Source } from './model.ts';
import { TABLE_SCHEMA, TTL_ATTRIBUTE, HOLD_ATTRIBUTE, callPk, dayPk, listingSk, phonePk, receivedPk } from './table.ts';
import { callDay, rawKeyFor, sha256Hex } from './keys.ts';
import { fitRecord, type IndexValue } from './item-fit.ts';
import { isValidE164 } from './phone.ts';
import { type Logger, errorFields } from './log.ts';
import { unsent } from './warm.ts';

/**
 * S3 is the system of record, DynamoDB the index: every accepted body is in S3
 * before a 2xx, so the index can always be rebuilt from the archive.
 *
 * Order of writes for one delivery, each step idempotent so that a retry after
 * a partial failure completes the work:
 *   1. extra objects (watsonx audio) and the raw body, to S3 concurrently, under
 *      keys that depend only on the content: a retry writes the same key with
 *      the same bytes (and, in AWS, `If-None-Match: *` makes the second write a
 *      no-op);
 *   2. once every object is stored, one conditional put of the index item: it
 *      is written only if there is none, or the stored one is older (version,
 *      then digest, decide), so duplicates and stale events never overwrite
 *      what is there; the failed put itself returns the stored item, which
 *      tells a duplicate from a stale event (and the SDK's retry of a put that
 *      had already landed from both) without a second read.
 * Nothing points at an object that is not stored yet.
 *
 * The SDK clients are given (createStorage): each handler's composition root
 * creates them once, so importing this module builds nothing.
 * Timeouts are deliberate: a vendor waits at most a few seconds (watsonx: its
 * configured 1–30 s, then hangs up), so a storage call that stalls is cut off
 * and answered with a 503 the vendor can retry, instead of hanging the call.
 */

// Hard per-attempt limits (throwOnRequestTimeout: requestTimeout alone only warns): a full stall is a
// 503 within about 5 s, inside every vendor's timeout. Figures and reasons: docs/reliability.md.
export const S3_TIMEOUTS = { connectionTimeout: 1_000, requestTimeout: 2_500, maxAttempts: 2 } as const;
export const DDB_TIMEOUTS = { connectionTimeout: 500, requestTimeout: 1_000, maxAttempts: 3 } as const;

export interface StorageClients {
  s3: S3Client;
  ddb: DynamoDBDocumentClient;
}

/** The clients a handler's composition root creates once, configured only by the standard SDK environment. */
export function createStorageClients(): StorageClients {
  const s3 = new S3Client({
    maxAttempts: S3_TIMEOUTS.maxAttempts,
    // No `Expect: 100-continue` on PUTs of 2 MiB and more: one round trip fewer for headers S3 does not reject.
    expectContinueHeader: false,
    requestHandler: {
      connectionTimeout: S3_TIMEOUTS.connectionTimeout,
      requestTimeout: S3_TIMEOUTS.requestTimeout,
      throwOnRequestTimeout: true,
    },
  });
  const ddb = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      maxAttempts: DDB_TIMEOUTS.maxAttempts,
      requestHandler: {
        connectionTimeout: DDB_TIMEOUTS.connectionTimeout,
        requestTimeout: DDB_TIMEOUTS.requestTimeout,
        throwOnRequestTimeout: true,
      },
    }),
    { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false } },
  );
  return { s3, ddb };
}

export interface StorageTarget {
  bucketName: string;
  tableName: string;
  /** Index items expire (TTL) this many days after the delivery was received; unset: never. */
  retentionDays?: number;
}

export interface StoredObject {
  key: string;
  body: Uint8Array;
  contentType: string;
  /** S3 user metadata (x-amz-meta-*), e.g. what a reindex needs that is not in the body. */
  metadata?: Record<string, string>;
}

export interface Delivery {
  call: NormalizedCall;
  /** Sort key of the item: CALL, REC#<id> or SEG#<id> (see table.ts). */
  sk: string;
  /** The request body exactly as received, and how to name it in the archive. */
  raw: { bytes: Uint8Array; contentType: string; extension: string; metadata?: Record<string, string> };
  /** Objects stored beside the raw body, before the index item (watsonx audio). */
  objects?: StoredObject[];
  /** Orders events for the same item: the highest wins (epoch ms of the vendor's event time). */
  version: number;
  /** Names the raw archive and breaks version ties; default the raw body's SHA-256 (watsonx: metadata and audio, see its interpreter). */
  digest?: string;
  receivedAt: Date;
}

/** `archived`: the bytes are safe in S3 but the index has no item for them yet (a reindex adds it). */
export type Outcome = 'stored' | 'duplicate' | 'stale' | 'archived';

export interface StoreResult {
  outcome: Outcome;
  rawS3Key: string;
  /** The index write failed (outcome `archived`): S3 holds the bytes, a reindex repairs the index. */
  indexError?: boolean;
}

export interface IndexItem {
  PK: string;
  SK: string;
  GSI1PK: string;
  GSI1SK: string;
  GSI2PK?: string;
  GSI2SK?: string;
  GSI3PK: string;
  GSI3SK: string;
  source: Source;
  callId: string;
  version: number;
  digest: string;
  /** The call record as the document client marshals it losslessly (see item-fit.ts). */
  record: Map<string, IndexValue>;
  /** TTL (epoch seconds): the same age at which the S3 lifecycle expires the raw archive. */
  [TTL_ATTRIBUTE]?: number;
}

export interface IndexItemOptions {
  /** Keep only the fields that place the call (DynamoDB refused the full item). */
  coreOnly?: boolean;
}

export function indexItem(
  record: CallRecord, sk: string, version: number, digest: string, retentionDays?: number, opts: IndexItemOptions = {},
): IndexItem {
  const at = record.startedAt ?? record.receivedAt;
  const sortKey = listingSk(at, record.source, record.callId, sk);
  // Only a valid number is indexed: a vendor's verbatim `+10612345679` is kept, but is no one's number.
  const e164 = isValidE164(record.customerNumber) ? record.customerNumber : undefined;
  const keys = {
    PK: callPk(record.source, record.callId),
    SK: sk,
    GSI1PK: dayPk(at.slice(0, 10)),
    GSI1SK: sortKey,
    ...(e164 ? { GSI2PK: phonePk(e164), GSI2SK: sortKey } : {}),
    GSI3PK: receivedPk(record.receivedAt.slice(0, 10)),
    GSI3SK: listingSk(record.receivedAt, record.source, record.callId, sk),
    source: record.source,
    callId: record.callId,
    version,
    digest,
    ...(retentionDays ? { [TTL_ATTRIBUTE]: Math.floor(Date.parse(record.receivedAt) / 1000) + retentionDays * 86_400 } : {}),
  };
  const overheadBytes = Buffer.byteLength(JSON.stringify(keys));
  return { ...keys, record: fitRecord(record, { overheadBytes, coreOnly: opts.coreOnly }).record };
}

/**
 * DynamoDB refused the item itself (a ValidationException, or the document
 * client could not marshal it): a retry would fail the same way, so this is
 * never "storage unavailable".
 */
export function isItemRefused(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'ValidationException') return true;
  // The document client's marshalling errors are plain Errors with no HTTP response.
  return !('$metadata' in err) && /Unsupported type|Number .* MAX_SAFE_INTEGER|Special numeric|options\.removeUndefinedValues|Pass a non-empty set/.test(err.message);
}

function isConditionFailure(err: unknown): boolean {
  return err instanceof Error && err.name === 'ConditionalCheckFailedException';
}

/** What a failed conditional put learned about the stored item: which event it holds, and from which receipt. */
export interface StoredWrite {
  digest?: string;
  /** GSI3SK: the receive time (ms) and keys of the delivery that wrote it. */
  receivedSk?: string;
}

function stringAttribute(item: object, name: string): string | undefined {
  if (!(name in item)) return undefined;
  const value: unknown = (item as Record<string, unknown>)[name];
  if (typeof value !== 'object' || value === null || !('S' in value)) return undefined;
  return typeof value.S === 'string' ? value.S : undefined;
}

/**
 * The stored item as the failed conditional put returned it
 * (`ReturnValuesOnConditionCheckFailure: ALL_OLD`; the document client does
 * not unmarshall errors, so these are raw attribute values), or undefined when
 * the server sent no item back (dynalite, local mode).
 */
export function storedWriteOfConditionFailure(err: unknown): StoredWrite | undefined {
  if (typeof err !== 'object' || err === null || !('Item' in err)) return undefined;
  const item: unknown = err.Item;
  if (typeof item !== 'object' || item === null) return undefined;
  const digest = stringAttribute(item, 'digest');
  return digest === undefined ? undefined : { digest, receivedSk: stringAttribute(item, 'GSI3SK') };
}

/** How many attempts the SDK made for a request that failed (its retry middleware counts them on the error). */
export function attemptsOf(err: unknown): number {
  if (typeof err !== 'object' || err === null || !('$metadata' in err)) return 1;
  const meta: unknown = err.$metadata;
  return typeof meta === 'object' && meta !== null && 'attempts' in meta && typeof meta.attempts === 'number' ? meta.attempts : 1;
}

/**
 * A failed conditional put, classified against the item it found. The SDK
 * retries a put whose response did not arrive in time (or came back 5xx)
 * although it may have been written; the retry then fails its condition on
 * our own item. That item is recognised by its digest AND its receipt (GSI3SK
 * holds this delivery's receive time): it is this delivery, `stored`. A vendor
 * retry of the same event is another delivery, received at another time:
 * `duplicate`. Any other digest is a newer event: `stale`.
 */
export function classifyConditionFailure(item: Pick<IndexItem, 'digest' | 'GSI3SK'>, stored: StoredWrite, attempts: number): Outcome {
  if (stored.digest !== item.digest) return 'stale';
  return attempts > 1 && stored.receivedSk === item.GSI3SK ? 'stored' : 'duplicate';
}

export interface StoreOptions {
  /**
   * watsonx: once the audio is safe in S3, answer 2xx even if the index write
   * fails (a failure would hang up on the caller); the failure is logged and
   * counted, and a reindex repairs it.
   */
  indexBestEffort?: boolean;
}

export interface ArchiveOnly {
  source: Source;
  /** Key segment to file it under: the call it belongs to, or a placeholder. */
  id: string;
  raw: Delivery['raw'];
  receivedAt: Date;
}

export interface Storage {
  putObject(target: StorageTarget, obj: StoredObject): Promise<void>;
  putIndex(target: StorageTarget, item: IndexItem): Promise<Outcome>;
  putIndexFitted(target: StorageTarget, record: CallRecord, sk: string, version: number, digest: string, retentionDays?: number, log?: Logger): Promise<Outcome>;
  archiveOnly(target: StorageTarget, d: ArchiveOnly, log: Logger): Promise<{ rawS3Key: string }>;
  store(target: StorageTarget, d: Delivery, log: Logger, opts?: StoreOptions): Promise<StoreResult>;
  warm(target: StorageTarget): Promise<void>;
}

/** A key no index item has (every PK starts CALL#): what the warm-up reads. */
export const WARM_UP_KEY = { [TABLE_SCHEMA.partitionKey]: 'WARM-UP', [TABLE_SCHEMA.sortKey]: 'WARM-UP' } as const;

/** The store over the clients it is given (see createStorageClients). */
export function createStorage({ s3, ddb }: StorageClients): Storage {
  async function putObject(target: StorageTarget, obj: StoredObject): Promise<void> {
    try {
      await s3.send(new PutObjectCommand({
        Bucket: target.bucketName,
        Key: obj.key,
        Body: obj.body,
        ContentType: obj.contentType,
        ContentLength: obj.body.byteLength,
        Metadata: obj.metadata,
        IfNoneMatch: '*',
      }));
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      // 412: the key already holds the (content-addressed) object; 409: a concurrent identical write.
      if (status === 412 || status === 409) return;
      throw err;
    }
  }

  /** Conditional put: written if new, or newer than what is stored, and not on legal hold; otherwise tells duplicate from stale. */
  async function putIndex(target: StorageTarget, item: IndexItem): Promise<Outcome> {
    const { partitionKey: PK, sortKey: SK } = TABLE_SCHEMA;
    let stored: StoredWrite | undefined;
    let attempts: number;
    try {
      await ddb.send(new PutCommand({
        TableName: target.tableName,
        Item: item,
        ConditionExpression: 'attribute_not_exists(#hold) AND (attribute_not_exists(#pk) OR #v < :v OR (#v = :v AND #d < :d))',
        ExpressionAttributeNames: { '#pk': PK, '#v': 'version', '#d': 'digest', '#hold': HOLD_ATTRIBUTE },
        ExpressionAttributeValues: { ':v': item.version, ':d': item.digest },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }));
      return 'stored';
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      stored = storedWriteOfConditionFailure(err);
      attempts = attemptsOf(err);
    }
    if (stored === undefined) {
      // A server that ignores ReturnValuesOnConditionCheckFailure: read the item instead.
      const existing = await ddb.send(new GetCommand({
        TableName: target.tableName,
        Key: { [PK]: item.PK, [SK]: item.SK },
        ConsistentRead: true,
        ProjectionExpression: '#d, #r',
        ExpressionAttributeNames: { '#d': 'digest', '#r': 'GSI3SK' },
      }));
      const { digest, GSI3SK } = existing.Item ?? {};
      stored = { digest: typeof digest === 'string' ? digest : undefined, receivedSk: typeof GSI3SK === 'string' ? GSI3SK : undefined };
    }
    return classifyConditionFailure(item, stored, attempts);
  }

  /** putIndex, and when DynamoDB refuses the fitted item anyway, once more with the core fields only. */
  async function putIndexFitted(
    target: StorageTarget, record: CallRecord, sk: string, version: number, digest: string, retentionDays?: number, log?: Logger,
  ): Promise<Outcome> {
    try {
      return await putIndex(target, indexItem(record, sk, version, digest, retentionDays));
    } catch (err) {
      if (!isItemRefused(err)) throw err;
      log?.warn('index item refused, storing its core fields only', { ...errorFields(err), source: record.source });
      return await putIndex(target, indexItem(record, sk, version, digest, retentionDays, { coreOnly: true }));
    }
  }

  /**
   * A delivery that is not a call (Vapi's status updates, transcripts, tool
   * calls): the raw body archived under the receive day, no index item.
   */
  async function archiveOnly(target: StorageTarget, d: ArchiveOnly, log: Logger): Promise<{ rawS3Key: string }> {
    const rawS3Key = rawKeyFor(d.source, d.id, d.receivedAt.toISOString(), sha256Hex(d.raw.bytes), d.raw.extension);
    try {
      await putObject(target, {
        key: rawS3Key,
        body: d.raw.bytes,
        contentType: d.raw.contentType,
        metadata: { 'received-at': d.receivedAt.toISOString() },
      });
    } catch (err) {
      log.error('archive write failed', { ...errorFields(err), source: d.source });
      throw new ServiceUnavailable('storage is unavailable, retry later', err);
    }
    return { rawS3Key };
  }

  async function store(target: StorageTarget, d: Delivery, log: Logger, opts: StoreOptions = {}): Promise<StoreResult> {
    const digest = d.digest ?? sha256Hex(d.raw.bytes);
    const rawS3Key = rawKeyFor(d.call.source, d.call.callId, callDay(d.call, d.receivedAt), digest, d.raw.extension);
    try {
      // Concurrent: a delivery waits for one S3 round trip, not one per object.
      // Every write settles before the answer, so a 503 leaves nothing in flight.
      const writes = await Promise.allSettled([
        ...(d.objects ?? []).map((obj) => putObject(target, obj)),
        putObject(target, {
          key: rawS3Key,
          body: d.raw.bytes,
          contentType: d.raw.contentType,
          metadata: { ...d.raw.metadata, 'received-at': d.receivedAt.toISOString() },
        }),
      ]);
      for (const w of writes) if (w.status === 'rejected') throw w.reason;
    } catch (err) {
      log.error('archive write failed', { ...errorFields(err), source: d.call.source });
      throw new ServiceUnavailable('storage is unavailable, retry later', err);
    }
    const record: CallRecord = { ...d.call, rawS3Key, receivedAt: d.receivedAt.toISOString() };
    try {
      const outcome = await putIndexFitted(target, record, d.sk, d.version, digest, target.retentionDays, log);
      return { outcome, rawS3Key };
    } catch (err) {
      log.error('index write failed', { ...errorFields(err), source: d.call.source, rawS3Key });
      // A refused item would be refused on every retry: the bytes are archived, a reindex can add it.
      if (opts.indexBestEffort || isItemRefused(err)) return { outcome: 'archived', rawS3Key, indexError: true };
      throw new ServiceUnavailable('storage is unavailable, retry later', err);
    }
  }

  /**
   * During init: each kind of request the store sends goes through the SDK's
   * pipeline once without being sent (endpoint rules, schemas, credentials,
   * SigV4 are first-use work that would otherwise land on the first caller);
   * the consistent GetItem is real: it opens the DynamoDB connection before
   * the first request. Deployed configuration only (handler.ts). Never throws,
   * writes nothing.
   */
  async function warm(target: StorageTarget): Promise<void> {
    const body = new Uint8Array(1);
    await Promise.allSettled([
      s3.send(new PutObjectCommand({
        Bucket: target.bucketName, Key: 'warm-up', Body: body, ContentType: 'application/json', ContentLength: body.byteLength,
        Metadata: { 'received-at': new Date(0).toISOString() }, IfNoneMatch: '*',
      }), unsent()),
      ddb.send(new PutCommand({
        TableName: target.tableName, Item: { ...WARM_UP_KEY, version: 0, digest: '' },
        ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': TABLE_SCHEMA.partitionKey },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }), unsent()),
      ddb.send(new GetCommand({
        TableName: target.tableName, Key: WARM_UP_KEY, ConsistentRead: true, ProjectionExpression: '#d', ExpressionAttributeNames: { '#d': 'digest' },
      }), { abortSignal: AbortSignal.timeout(DDB_TIMEOUTS.requestTimeout) }),
    ]);
  }

  return { putObject, putIndex, putIndexFitted, archiveOnly, store, warm };
}
