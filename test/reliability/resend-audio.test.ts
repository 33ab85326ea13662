import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { startEmbeddedStorage, ensureBucketAndTable, type EmbeddedStorage } from '../../lib/embedded.ts';
import { inspector, type Inspector } from '../../lib/inspect.ts';
import { loadBehindProxy, outcomeOf, stopBehindProxy, type Handlers } from './support/handlers.ts';
import { sampleEnvironment, type Delivery } from '../../lib/traffic.ts';
import { watsonxRequest } from '../../lib/requests.ts';
import { wrapMulaw } from '../../functions/audio-webhook/wav.ts';
import type * as ReindexCore from '../../lib/reindex/core.ts';

/**
 * A watsonx recording re-sent under the same recording_id with other audio:
 * the WAV object, its S3 metadata and the index item always describe the same
 * bytes, sequentially and concurrently, on s3rver (which ignores
 * `If-None-Match`) and on an S3 that honours it as AWS does; and a reindex
 * rebuilds the same item.
 *
 * S3 sits behind a small HTTP proxy of this test. By default it forwards
 * everything to the real s3rver; with `awsLike` set it answers a
 * `PUT If-None-Match: *` the way S3 does — 412 when the key exists, 409 while
 * another conditional write of that key is in flight — which s3rver cannot.
 */

const BUCKET = 'resend-audio';
const TABLE = 'resend-audio';
const secrets = sampleEnvironment();
const settings = { engageTimeZone: 'UTC', defaultPhoneRegion: 'US' };
let storage: EmbeddedStorage;
let proxy: Server;
let awsLike = false;
let look: Inspector;
let handlers: Handlers;
let core: typeof ReindexCore;

function forward(req: IncomingMessage, body: Buffer, res: ServerResponse): void {
  const target = new URL(storage.s3Endpoint);
  // Headers as signed (host included): s3rver checks the signature.
  const out = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
    res.writeHead(up.statusCode ?? 502, up.headers);
    up.pipe(res);
  });
  out.on('error', () => res.destroy());
  out.end(body);
}

beforeAll(async () => {
  storage = await startEmbeddedStorage();
  await ensureBucketAndTable(storage, BUCKET, TABLE);
  look = inspector(storage, BUCKET, TABLE);
  const writing = new Set<string>();
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (!(awsLike && req.method === 'PUT' && req.headers['if-none-match'] === '*')) return forward(req, body, res);
      const error = (status: number, code: string) => {
        res.writeHead(status, { 'content-type': 'application/xml' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`);
      };
      if (writing.has(path)) return error(409, 'ConditionalRequestConflict');
      writing.add(path);
      const key = path.split('/').slice(2).map(decodeURIComponent).join('/');
      look.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })).then(
        () => { writing.delete(path); error(412, 'PreconditionFailed'); },
        () => { res.on('close', () => writing.delete(path)); forward(req, body, res); },
      );
    });
  });
  ({ handlers, core } = await loadBehindProxy(storage, proxy, 's3', { ...secrets, BUCKET_NAME: BUCKET, TABLE_NAME: TABLE }));
});

afterAll(async () => {
  await stopBehindProxy(look, proxy, storage);
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const DAY = '2026/11/20';

/** The watsonx metadata part of one recording; `stopSec` moves its stop time (its version). */
function metadata(sessionId: string, recordingId: string, stopSec = 2): Buffer {
  return Buffer.from(JSON.stringify({
    session_id: sessionId, recording_id: recordingId,
    start_timestamp: '2026-11-20T14:03:27.000Z', stop_timestamp: new Date(Date.parse('2026-11-20T14:03:27.000Z') + stopSec * 1000).toISOString(),
  }));
}

async function delivery(meta: Buffer, audio: Buffer, sessionId: string): Promise<Delivery> {
  return { source: 'watsonx', callId: sessionId, request: await watsonxRequest({ metadata: meta, audio, variant: 'mulaw' }, secrets.WATSONX_AUDIO_SECRET) };
}

/** The bytes of a WAV file's data chunk (what was received, for µ-law wrapped by the handler). */
function dataChunk(wav: Buffer): Buffer {
  expect(wav.toString('latin1', 0, 4)).toBe('RIFF');
  for (let at = 12; at + 8 <= wav.length;) {
    const size = wav.readUInt32LE(at + 4);
    if (wav.toString('latin1', at, at + 4) === 'data') return wav.subarray(at + 8, at + 8 + size);
    at += 8 + size + (size % 2);
  }
  throw new Error('no data chunk');
}

interface Described { sha256: string; bytes: number }

/** What one stored WAV object holds and what its S3 metadata says; they must agree. */
async function audioObject(key: string): Promise<Described> {
  const data = dataChunk(await look.getBytes(key));
  const head = await look.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
  expect({ sha256: head.Metadata?.sha256, bytes: Number(head.Metadata?.bytes) }, key).toEqual({ sha256: sha(data), bytes: data.length });
  return { sha256: sha(data), bytes: data.length };
}

interface Recording { id: string; s3Key: string; sha256: string; bytes: number }

/**
 * The invariant: the index item, the object it points at and that object's
 * metadata describe the same bytes; the raw archive it names records that
 * object; every audio object of the session agrees with its own metadata.
 */
async function agreeing(sessionId: string, recordingId: string): Promise<{ item: Record<string, unknown>; indexed: Described; objects: Described[] }> {
  const items = (await look.itemsOf('watsonx', sessionId)).filter((i) => i.SK === `REC#${recordingId}`);
  expect(items).toHaveLength(1);
  const item = items[0] as Record<string, unknown> & { record: { rawS3Key: string; recordings: Recording[] } };
  const [rec] = item.record.recordings;
  if (!rec) throw new Error('no recording in the item');
  const indexed = { sha256: rec.sha256, bytes: rec.bytes };
  expect(await audioObject(rec.s3Key)).toEqual(indexed);
  const raw = await look.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: item.record.rawS3Key }));
  expect(raw.Metadata?.['audio-key']).toBe(rec.s3Key);
  const keys = await look.listKeys(`audio/watsonx/${DAY}/${sessionId}/${recordingId}.`);
  const objects: Described[] = [];
  for (const key of keys) objects.push(await audioObject(key));
  return { item, indexed, objects };
}

/** An item without when it was received (the receipt-time index and the record's receivedAt). */
function withoutReceipt(item: Record<string, unknown>): Record<string, unknown> {
  const { GSI3PK: _pk, GSI3SK: _sk, record, ...rest } = item as Record<string, unknown> & { record: Record<string, unknown> };
  const { receivedAt: _at, ...kept } = record;
  return { ...rest, record: kept };
}

/** Remove everything stored for a session (objects and items), to replay it in another order. */
async function forgetSession(sessionId: string): Promise<void> {
  for (const prefix of [`audio/watsonx/${DAY}/${sessionId}/`, `raw/watsonx/${DAY}/${sessionId}/`]) {
    for (const key of await look.listKeys(prefix)) await look.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
  }
  for (const i of await look.itemsOf('watsonx', sessionId)) await look.ddb.send(new DeleteCommand({ TableName: TABLE, Key: { PK: i.PK, SK: i.SK } }));
}

/** Wipe these sessions' items, reindex, and return what the index holds again for them. */
async function reindexed(sessionIds: string[]) {
  for (const sessionId of sessionIds) {
    for (const i of await look.itemsOf('watsonx', sessionId)) await look.ddb.send(new DeleteCommand({ TableName: TABLE, Key: { PK: i.PK, SK: i.SK } }));
  }
  const report = await core.reindex({ s3: look.s3, bucketName: BUCKET, tableName: TABLE, settings, sources: ['watsonx'] });
  expect(report.failed).toEqual([]);
  expect(report.keyMismatches).toEqual([]);
  const pks = new Set(sessionIds.map((id) => `CALL#watsonx#${id}`));
  return (await look.scanAll()).filter((i) => pks.has(String(i.PK)));
}

describe.each([
  ['s3rver, which ignores If-None-Match', false],
  ['an S3 that honours If-None-Match, as AWS does', true],
])('a watsonx recording re-sent under the same recording_id with other audio, on %s', (_name, honours) => {
  beforeAll(() => { awsLike = honours; });

  it('sequentially: both audios are stored, each object agrees with its metadata, the index with the object it names, whichever came first', async () => {
    const [a, b] = [randomBytes(8000), randomBytes(8000)];
    const sessionId = randomUUID();
    const recordingId = randomUUID();
    const meta = metadata(sessionId, recordingId);
    const indexedAudio: string[] = [];
    for (const order of [[a, b], [b, a]]) {
      await forgetSession(sessionId);
      for (const audio of order) {
        const res = await handlers.invoke(await delivery(meta, audio, sessionId));
        expect(res.statusCode, String(res.body)).toBe(200);
      }
      const { indexed, objects } = await agreeing(sessionId, recordingId);
      expect(objects.map((o) => o.sha256).sort()).toEqual([sha(a), sha(b)].sort());
      indexedAudio.push(indexed.sha256);
      // A retry of either is answered 2xx and changes nothing.
      for (const audio of order) expect((await handlers.invoke(await delivery(meta, audio, sessionId))).statusCode).toBe(200);
      expect((await agreeing(sessionId, recordingId)).indexed).toEqual(indexed);
    }
    // The same one of the two is indexed whatever the order of arrival (equal stop times: the higher digest).
    expect(indexedAudio[1]).toBe(indexedAudio[0]);
  });

  it('sequentially with a later stop time: the newer delivery is indexed, an older one never replaces it', async () => {
    const sessionId = randomUUID();
    const recordingId = randomUUID();
    const [older, newer] = [randomBytes(8000), randomBytes(16000)];
    expect(outcomeOf(await handlers.invoke(await delivery(metadata(sessionId, recordingId, 2), older, sessionId)))).toBe('stored');
    expect(outcomeOf(await handlers.invoke(await delivery(metadata(sessionId, recordingId, 3), newer, sessionId)))).toBe('stored');
    expect(outcomeOf(await handlers.invoke(await delivery(metadata(sessionId, recordingId, 2), randomBytes(8000), sessionId)))).toBe('stale');
    const { indexed, objects } = await agreeing(sessionId, recordingId);
    expect(indexed).toEqual({ sha256: sha(newer), bytes: 16000 });
    expect(objects).toHaveLength(3);
  });

  it('concurrently: 8 audios at once for one recording_id, each racing its own retry, 4 times over — the index always names an object holding what it says, and a reindex rebuilds the same items', async () => {
    const rounds: { sessionId: string; recordingId: string; item: Record<string, unknown>; indexed: Described }[] = [];
    for (let round = 0; round < 4; round++) {
      const sessionId = randomUUID();
      const recordingId = randomUUID();
      const meta = metadata(sessionId, recordingId);
      const audios = Array.from({ length: 8 }, () => randomBytes(8000));
      // Each audio twice (a vendor retry racing its original): 16 requests in flight.
      const sent = await Promise.all([...audios, ...audios].map(async (audio) => handlers.invoke(await delivery(meta, audio, sessionId))));
      for (const res of sent) expect(res.statusCode, String(res.body)).toBe(200);
      const { item, indexed, objects } = await agreeing(sessionId, recordingId);
      expect(objects.map((o) => o.sha256).sort()).toEqual(audios.map(sha).sort());
      expect(audios.map(sha)).toContain(indexed.sha256);
      rounds.push({ sessionId, recordingId, item, indexed });
    }
    const rebuilt = await reindexed(rounds.map((r) => r.sessionId));
    for (const r of rounds) {
      // A retry racing its original writes the same raw key with its own received-at, so the
      // receipt time may differ by the race's milliseconds; everything else is rebuilt as it was.
      expect(rebuilt.filter((i) => i.PK === r.item.PK).map(withoutReceipt)).toEqual([withoutReceipt(r.item)]);
      expect((await agreeing(r.sessionId, r.recordingId)).indexed).toEqual(r.indexed);
    }
  });
});

describe('an archive written before audio keys named their content', () => {
  it('(no audio-key metadata, WAV at <recording_id>.wav) is reindexed as it was indexed then', async () => {
    const sessionId = randomUUID();
    const recordingId = randomUUID();
    const meta = metadata(sessionId, recordingId);
    const audio = randomBytes(8000);
    const rawKey = `raw/watsonx/${DAY}/${sessionId}/${sha(meta)}.json`;
    const audioKey = `audio/watsonx/${DAY}/${sessionId}/${recordingId}.wav`;
    await look.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: rawKey, Body: meta, ContentType: 'application/json', Metadata: { 'received-at': '2026-11-20T14:03:30.000Z' } }));
    await look.s3.send(new PutObjectCommand({
      Bucket: BUCKET, Key: audioKey, Body: wrapMulaw(audio), ContentType: 'audio/wav',
      Metadata: { sha256: sha(audio), bytes: String(audio.length), 'source-content-type': 'audio/mulaw;rate=8000' },
    }));
    const [item] = await reindexed([sessionId]);
    expect(item).toMatchObject({ SK: `REC#${recordingId}`, digest: sha(meta), record: { rawS3Key: rawKey, recordings: [{ s3Key: audioKey, sha256: sha(audio), bytes: 8000 }] } });
  });
});
