import { createHash } from 'node:crypto';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CallRecord, Recording, Source } from '#shared/model';
import type { Secrets } from '#shared/config';
import type { RecordingMessage } from '#shared/recording-queue';
import { TABLE_SCHEMA, callPk } from '#shared/table';
import { callDay, datePath, keySegment } from '#shared/keys';
import { FetchError, type FetchPolicy } from './fetch.ts';
import { SNIFF_BYTES, describeNonAudio, sniffAudio } from './sniff.ts';
import { strategyFor, type FetchStrategy } from './sources.ts';

/**
 * One recording, copied: read the index item → (already copied? done) →
 * fetch through the source's strategy → decide the type from the first bytes →
 * stream to S3 (multipart, hashed and counted on the way, cut at the cap) →
 * point the index item's recording at the copy. Pure of AWS construction: the
 * worker's handler hands in the clients.
 *
 * Idempotent: the object key depends only on the call and the recording, an
 * object already there is adopted instead of fetched again, and a failed
 * upload is aborted (a multipart upload leaves no object until it completes).
 */

export interface ArchiveDeps {
  s3: S3Client;
  ddb: DynamoDBDocumentClient;
  bucketName: string;
  tableName: string;
  maxBytes: number;
  policy: FetchPolicy;
  secrets: () => Promise<Secrets>;
  synthflowApiUrl: string;
  vapiApiUrl: string;
  strategy?: (source: Source) => FetchStrategy;
  now?: () => Date;
}

export type ArchiveResult =
  | { kind: 'archived'; s3Key: string; bytes: number; sha256: string; contentType: string; adopted: boolean }
  | { kind: 'already' }
  | { kind: 'gone'; why: 'item_missing' | 'recording_missing' };

/** `audio/<source>/<yyyy>/<mm>/<dd>/<callId>/<recordingId>.` — the extension comes from the bytes. */
export function recordingKeyPrefix(record: Pick<CallRecord, 'source' | 'callId' | 'startedAt' | 'receivedAt'>, recordingId: string): string {
  const day = callDay(record, new Date(record.receivedAt));
  return `audio/${record.source}/${datePath(day)}/${keySegment(record.callId)}/${keySegment(recordingId)}.`;
}

interface Located {
  record: CallRecord;
  recording: Recording;
  index: number;
}

async function locate(deps: ArchiveDeps, m: RecordingMessage): Promise<Located | ArchiveResult> {
  const out = await deps.ddb.send(new GetCommand({
    TableName: deps.tableName,
    Key: { [TABLE_SCHEMA.partitionKey]: callPk(m.source, m.callId), [TABLE_SCHEMA.sortKey]: m.sk },
    ConsistentRead: true,
  }));
  const record = (out.Item as { record?: CallRecord } | undefined)?.record;
  if (!record) return { kind: 'gone', why: 'item_missing' };
  const index = record.recordings.findIndex((r) => r.id === m.recordingId);
  const recording = record.recordings[index];
  if (!recording) return { kind: 'gone', why: 'recording_missing' };
  return { record, recording, index };
}

/** Sets fields of one recording in the item, provided it is still the same recording at that position. */
async function updateRecording(deps: ArchiveDeps, m: RecordingMessage, index: number, set: Record<string, unknown>, remove: string[]): Promise<boolean> {
  const names: Record<string, string> = { '#r': 'record', '#rs': 'recordings', '#id': 'id' };
  const values: Record<string, unknown> = { ':rid': m.recordingId };
  const path = (field: string) => {
    names[`#${field}`] = field;
    return `#r.#rs[${index}].#${field}`;
  };
  const sets = Object.entries(set).map(([field, value]) => {
    values[`:${field}`] = value;
    return `${path(field)} = :${field}`;
  });
  const removes = remove.map(path);
  try {
    await deps.ddb.send(new UpdateCommand({
      TableName: deps.tableName,
      Key: { [TABLE_SCHEMA.partitionKey]: callPk(m.source, m.callId), [TABLE_SCHEMA.sortKey]: m.sk },
      UpdateExpression: [sets.length ? `SET ${sets.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : ''].join(' ').trim(),
      ConditionExpression: `#r.#rs[${index}].#id = :rid`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    }));
    return true;
  } catch (err) {
    if (err instanceof Error && err.name === 'ConditionalCheckFailedException') return false;
    throw err;
  }
}

/** Records a copy on the item; a concurrent newer delivery moved things: find the recording again, once. */
async function recordCopy(deps: ArchiveDeps, m: RecordingMessage, at: Located, copy: { s3Key: string; bytes: number; sha256: string; contentType: string }): Promise<void> {
  const fields = { ...copy, archivedAt: (deps.now?.() ?? new Date()).toISOString() };
  const clear = ['archiveStatus', 'archiveError', 'archiveAttempts'];
  if (await updateRecording(deps, m, at.index, fields, clear)) return;
  const again = await locate(deps, m);
  if ('record' in again) await updateRecording(deps, m, again.index, fields, clear);
}

/** Marks a recording `retrying` or `failed` with the reason (best effort: the queue decides what happens next). */
export async function recordFailure(deps: ArchiveDeps, m: RecordingMessage, status: 'retrying' | 'failed', reason: string, attempts: number): Promise<void> {
  const at = await locate(deps, m);
  if (!('record' in at) || at.recording.s3Key !== undefined) return;
  await updateRecording(deps, m, at.index, { archiveStatus: status, archiveError: reason, archiveAttempts: attempts }, []);
}

async function existingCopy(deps: ArchiveDeps, prefix: string) {
  const listed = await deps.s3.send(new ListObjectsV2Command({ Bucket: deps.bucketName, Prefix: prefix, MaxKeys: 5 }));
  const key = listed.Contents?.map((o) => o.Key).find((k): k is string => k !== undefined && /^[a-z0-9]{2,5}$/.test(k.slice(prefix.length)));
  if (!key) return undefined;
  const head = await deps.s3.send(new HeadObjectCommand({ Bucket: deps.bucketName, Key: key }));
  // The hash is not in the object's metadata (it is known only after the upload started): recompute it.
  const obj = await deps.s3.send(new GetObjectCommand({ Bucket: deps.bucketName, Key: key }));
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of obj.Body as Readable) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { s3Key: key, bytes, sha256: hash.digest('hex'), contentType: head.ContentType ?? 'application/octet-stream' };
}

/** Reads until at least `n` bytes (or the end) have arrived; the stream is left paused after them. */
function readHead(body: Readable, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const done = (err?: unknown) => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.pause();
      if (err) reject(err);
      else resolve(Buffer.concat(chunks));
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= n) done();
    };
    const onEnd = () => done();
    const onError = (err: unknown) => done(err);
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
  });
}

function bodyError(err: unknown): FetchError {
  if (err instanceof FetchError) return err;
  if (typeof err === 'object' && err !== null && '$metadata' in err) return new FetchError('storage_error', 'the bucket refused the copy');
  const code = (err as { code?: string }).code;
  if (code === 'ECONNRESET' || (err as Error).message === 'aborted') return new FetchError('truncated_body', 'the connection closed before the whole body arrived');
  return new FetchError('network_error', code ?? (err as Error).name ?? 'error');
}

export async function archiveRecording(deps: ArchiveDeps, m: RecordingMessage): Promise<ArchiveResult> {
  const at = await locate(deps, m);
  if (!('record' in at)) return at;
  if (at.recording.s3Key !== undefined && at.recording.archivedAt !== undefined) return { kind: 'already' };
  const prefix = recordingKeyPrefix(at.record, m.recordingId);

  const existing = await existingCopy(deps, prefix);
  if (existing) {
    await recordCopy(deps, m, at, existing);
    return { kind: 'archived', ...existing, adopted: true };
  }

  const strategy = (deps.strategy ?? strategyFor)(m.source);
  const res = await strategy({ source: m.source, callId: m.callId, recording: at.recording }, {
    policy: deps.policy, secrets: await deps.secrets(), synthflowApiUrl: deps.synthflowApiUrl, vapiApiUrl: deps.vapiApiUrl,
  });
  const body = res.body;
  try {
    const declared = res.headers['content-length'] === undefined ? undefined : Number(res.headers['content-length']);
    if (declared !== undefined && declared > deps.maxBytes) {
      throw new FetchError('too_large', `Content-Length ${declared} is over the cap of ${deps.maxBytes} bytes`, true);
    }
    let head: Buffer;
    try {
      head = await readHead(body, SNIFF_BYTES);
    } catch (err) {
      throw bodyError(err);
    }
    const type = sniffAudio(head);
    if (!type) throw new FetchError(describeNonAudio(head), 'the body is not audio');

    const hash = createHash('sha256');
    let bytes = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        bytes += chunk.length;
        if (bytes > deps.maxBytes) return cb(new FetchError('too_large', `the body is over the cap of ${deps.maxBytes} bytes`, true));
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    const out = new PassThrough();
    const s3Key = prefix + type.extension;
    const upload = new Upload({
      client: deps.s3,
      params: { Bucket: deps.bucketName, Key: s3Key, Body: out, ContentType: type.contentType },
      queueSize: 2,
      partSize: 8 * 1024 * 1024,
      leavePartsOnError: false,
    });
    const uploaded = upload.done();
    // An upload that fails (S3 down) stops reading: end the pipeline with its error instead of waiting on backpressure.
    uploaded.catch((err: unknown) => out.destroy(err instanceof Error ? err : new Error('upload failed')));
    try {
      await pipeline(
        async function* () {
          yield head;
          yield* body;
        },
        meter,
        out,
      );
      if (declared !== undefined && bytes !== declared) throw new FetchError('truncated_body', `${bytes} of ${declared} bytes arrived`);
    } catch (err) {
      const failure = bodyError(err);
      // With an error, never a clean end: an ended stream would let the upload complete with part of the body.
      out.destroy(failure);
      await upload.abort().catch(() => undefined);
      await uploaded.catch(() => undefined);
      throw failure;
    }
    await uploaded;
    const copy = { s3Key, bytes, sha256: hash.digest('hex'), contentType: type.contentType };
    await recordCopy(deps, m, at, copy);
    return { kind: 'archived', ...copy, adopted: false };
  } finally {
    body.destroy();
  }
}
