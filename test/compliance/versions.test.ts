import { describe, it, expect, beforeAll, afterAll, inject } from 'vitest';
import {
  S3Client, CreateBucketCommand, GetObjectCommand, PutObjectCommand, DeleteObjectCommand, GetObjectLegalHoldCommand, PutObjectRetentionCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import { DynamoDBClient, CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createTableInput, HOLD_ATTRIBUTE, TTL_ATTRIBUTE } from '#shared/table';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../lib/embedded.ts';
import { configureHandlers, scenario, invoke, type Scenario } from '../calls/support.ts';
import type { Receipt } from '../../lib/calls/erasure.ts';
import { VersionedS3, PAGE } from './versioned-s3.ts';
import { snapshot, difference, tempDataDir, cli, type Snapshot } from './support.ts';

/**
 * Versions and legal holds. No local S3 server has object versions or Object
 * Lock, so this file runs on the stand-in of ./versioned-s3.ts (the versioned
 * subset of S3 that erasure calls, with S3's refusal to delete a locked
 * version), driven by the real SDK, with the real handlers writing to it and
 * the embedded dynalite as the table. docs/compliance.md says what this does
 * and does not prove.
 */

const BUCKET = 'compliance-versions';
const TABLE = 'compliance-versions';
const standIn = new VersionedS3();
let s3: S3Client;
let ddb: DynamoDBDocumentClient;
let env: Record<string, string | undefined>;
let a: Scenario;
let b: Scenario;

const snap = () => snapshot(s3, ddb, BUCKET, TABLE, true);
const run = (argv: string[], answer?: string) => cli(env, argv, answer);
const dayPath = (s: Scenario) => s.day.replaceAll('-', '/');
/** The WAV the handler stored for one recording (its key ends in the audio's content id). */
async function audioKey(s: Scenario, recordingId: string | undefined): Promise<string> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `audio/watsonx/${dayPath(s)}/${s.watsonx.sessionId}/${recordingId}.` }));
  const keys = (listed.Contents ?? []).map((o) => o.Key ?? '');
  expect(keys).toHaveLength(1);
  return keys[0] ?? '';
}
const ofCall = (s: Snapshot, source: string, callId: string) => ({
  objects: s.objects.filter((k) => /^(raw|audio)\//.test(k) && k.split('/')[1] === source && k.split('/')[5] === callId),
  items: s.items.filter((i) => i.startsWith(`CALL#${source}#${callId}|`)),
});

beforeAll(async () => {
  const storage = inject('storage');
  await standIn.start();
  Object.assign(process.env, { AWS_ENDPOINT_URL_S3: standIn.endpoint, BUCKET_NAME: BUCKET, TABLE_NAME: TABLE });
  const common = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  s3 = new S3Client({ ...common, endpoint: standIn.endpoint, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ ...common, endpoint: storage.dynamoEndpoint }));
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await ddb.send(new CreateTableCommand(createTableInput(TABLE)));
  configureHandlers();
  env = {
    BUCKET_NAME: BUCKET, TABLE_NAME: TABLE, DATA_DIR: tempDataDir(), DEFAULT_PHONE_REGION: 'US',
    LOCAL_S3_PORT: new URL(standIn.endpoint).port, LOCAL_DYNAMODB_PORT: new URL(storage.dynamoEndpoint).port,
  };
  a = await scenario();
  b = await scenario();
  for (const r of [...a.requests, ...b.requests]) expect((await invoke(r)).statusCode).toBe(200);
  // What a versioned bucket accumulates besides the handlers' one version per key: an object
  // overwritten (a noncurrent version), one deleted without a version id (a delete marker
  // over it), as an operator's mistake or the lifecycle's current-version expiration leaves them.
  const audio = await audioKey(a, a.watsonx.recordingIds[0]);
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: audio, Body: Buffer.from('RIFF-overwritten'), ContentType: 'audio/wav' }));
  const raw = ofCall(await snap(), 'volubile', a.volubile.callId).objects[0]!.split('@')[0]!;
  await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: raw }));
}, 60_000);

afterAll(async () => {
  s3?.destroy();
  ddb?.destroy();
  await standIn.stop();
});

describe('the stand-in', () => {
  it('is what the handlers wrote to: one version per archived object, and lists them page by page', async () => {
    const s = await snap();
    expect(ofCall(s, 'watsonx', a.watsonx.sessionId).objects).toHaveLength(5); // 2 raw + 2 audio + 1 overwrite
    expect(ofCall(s, 'volubile', a.volubile.callId).objects.filter((o) => o.endsWith('(marker)'))).toHaveLength(1);
    expect(s.objects.length).toBeGreaterThan(PAGE * 3);
    expect(standIn.calls.filter((c) => /[?&]versions/.test(c) && /key-marker=[^&]/.test(c)).length).toBeGreaterThan(0);
  });
});

describe('forget on a versioned bucket', () => {
  it('erases every version and delete marker of the call by version id, and nothing else', async () => {
    const before = await snap();
    const mine = ofCall(before, 'watsonx', a.watsonx.sessionId);
    const { code, out } = await run(['forget', 'watsonx', a.watsonx.sessionId, '--yes']);
    expect(code).toBe(0);
    const after = await snap();
    const d = difference(before, after);
    const receiptKey = /Receipt: (receipts\/\S+\.json)/.exec(out)?.[1];
    expect(d.objectsGone.sort()).toEqual(mine.objects.sort());
    expect(d.itemsGone.sort()).toEqual(mine.items.sort());
    expect(d.itemsNew).toEqual([]);
    expect(d.objectsNew.map((o) => o.split('@')[0])).toEqual([receiptKey]);
    // Every delete named a version: none of them left a delete marker behind.
    const deletes = standIn.calls.filter((c) => c.startsWith('DELETE ') && c.includes(a.watsonx.sessionId));
    expect(deletes).toHaveLength(5);
    for (const c of deletes) expect(c).toMatch(/\?versionId=v\d+/);
    const stored = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: receiptKey }));
    const receipt = JSON.parse(await stored.Body!.transformToString()) as Receipt;
    expect(receipt.bucket).toEqual({ name: BUCKET, versioned: true, objectLock: true });
    expect(receipt.counts).toMatchObject({ calls: 1, items: 2, objects: 4, versions: 5 });
    expect(receipt.calls[0]!.objects.map((o) => `${o.key}@${o.versionId}`).sort()).toEqual(mine.objects.sort());
  });

  it('removes the delete marker as well as the version under it', async () => {
    const before = await snap();
    const mine = ofCall(before, 'volubile', a.volubile.callId);
    expect(mine.objects.some((o) => o.endsWith('(marker)'))).toBe(true);
    const { code } = await run(['forget', 'volubile', a.volubile.callId, '--yes']);
    expect(code).toBe(0);
    expect(difference(before, await snap()).objectsGone.sort()).toEqual(mine.objects.sort());
  });
});

describe('hold on a bucket with Object Lock', () => {
  it('places an S3 legal hold on every version, which S3 and forget both honour, until released', async () => {
    const id = b.watsonx.sessionId;
    // A second version of one recording, so "every version" means more than one.
    const audio = await audioKey(b, b.watsonx.recordingIds[1]);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: audio, Body: Buffer.from('RIFF-second'), ContentType: 'audio/wav' }));
    const before = await snap();
    const versions = ofCall(before, 'watsonx', id).objects;
    expect(versions).toHaveLength(5);

    const held = await run(['hold', 'watsonx', id]);
    expect(held.code).toBe(0);
    expect(held.out).toMatch(/S3 legal hold placed on 5 object version\(s\); 2 index item\(s\) marked/);
    for (const v of versions) {
      const [key, versionId] = v.split('@');
      expect((await s3.send(new GetObjectLegalHoldCommand({ Bucket: BUCKET, Key: key, VersionId: versionId }))).LegalHold?.Status).toBe('ON');
    }
    const items = (await snap()).rawItems.filter((i) => i.PK === `CALL#watsonx#${id}`);
    for (const i of items) {
      expect(i[HOLD_ATTRIBUTE]).toMatchObject({ objectLock: true });
      expect(i).not.toHaveProperty(TTL_ATTRIBUTE);
    }
    expect((await run(['show', 'watsonx', id])).out).toMatch(/Hold: .*S3 Object Lock legal hold on every object/);

    // S3 itself refuses to delete a held version…
    const [key0, version0] = versions[0]!.split('@');
    await expect(s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key0, VersionId: version0 }))).rejects.toMatchObject({ name: 'AccessDenied' });
    // …forget refuses the call, for the index mark and for each held object…
    const refused = await run(['forget', 'watsonx', id, '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/on hold since/);
    expect(refused.err.match(/has an S3 legal hold/g)).toHaveLength(5);
    // …and still does for the S3 holds alone, if someone removed the index mark.
    for (const i of items) {
      await ddb.send(new UpdateCommand({ TableName: TABLE, Key: { PK: i.PK, SK: i.SK }, UpdateExpression: 'REMOVE #h', ExpressionAttributeNames: { '#h': HOLD_ATTRIBUTE } }));
    }
    const s3Only = await run(['forget', 'watsonx', id, '--yes']);
    expect(s3Only.code).toBe(1);
    expect(s3Only.err).not.toMatch(/on hold since/);
    expect(s3Only.err).toMatch(/has an S3 legal hold/);
    expect((await snap()).objects).toEqual([...before.objects].sort());

    const released = await run(['hold', 'watsonx', id, '--release']);
    expect(released.out).toMatch(/S3 legal hold lifted from 5 object version\(s\)/);
    for (const v of versions) {
      const [key, versionId] = v.split('@');
      expect((await s3.send(new GetObjectLegalHoldCommand({ Bucket: BUCKET, Key: key, VersionId: versionId }))).LegalHold?.Status).toBe('OFF');
    }
    const beforeErase = await snap();
    expect((await run(['forget', 'watsonx', id, '--yes'])).code).toBe(0);
    const d = difference(beforeErase, await snap());
    expect(d.objectsGone.sort()).toEqual(versions.sort());
    expect(d.itemsGone).toHaveLength(2);
  });

  it('a hold keeps the TTL aside and a release puts it back', async () => {
    const id = b.volubile.callId;
    const ttlOf = async () => (await snap()).rawItems.find((i) => i.PK === `CALL#volubile#${id}`);
    await ddb.send(new UpdateCommand({ TableName: TABLE, Key: { PK: `CALL#volubile#${id}`, SK: 'CALL' }, UpdateExpression: 'SET #t = :t', ExpressionAttributeNames: { '#t': TTL_ATTRIBUTE }, ExpressionAttributeValues: { ':t': 4_000_000_000 } }));
    await run(['hold', 'volubile', id]);
    expect(await ttlOf()).not.toHaveProperty(TTL_ATTRIBUTE);
    await run(['hold', 'volubile', id]); // holding twice keeps the saved TTL
    await run(['hold', 'volubile', id, '--release']);
    const item = await ttlOf();
    expect(item?.[TTL_ATTRIBUTE]).toBe(4_000_000_000);
    expect(item).not.toHaveProperty(HOLD_ATTRIBUTE);
  });

  it('a version still under its Object Lock retention period is refused, never bypassed', async () => {
    const id = b.synthflow.callId;
    const [version] = ofCall(await snap(), 'synthflow', id).objects;
    const [key, versionId] = version!.split('@');
    await s3.send(new PutObjectRetentionCommand({ Bucket: BUCKET, Key: key, VersionId: versionId, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: new Date(Date.now() + 86_400_000) } }));
    const before = await snap();
    const r = await run(['forget', 'synthflow', id, '--yes']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/under Object Lock GOVERNANCE retention until/);
    expect(await snap()).toEqual(before);
    expect(standIn.calls.some((c) => c.startsWith('DELETE ') && c.includes(id))).toBe(false);
  });
});

describe('after erasure', () => {
  it('a reindex from the versioned bucket brings none of the erased calls back', async () => {
    const before = await snap();
    const { reindex } = await import('../../lib/reindex/core.ts');
    const report = await reindex({ s3, bucketName: BUCKET, tableName: TABLE, settings: { engageTimeZone: 'UTC', defaultPhoneRegion: 'US' } });
    expect(report.failed).toEqual([]);
    const after = await snap();
    expect(after.items).toEqual(before.items);
    for (const [source, id] of [['watsonx', a.watsonx.sessionId], ['watsonx', b.watsonx.sessionId], ['volubile', a.volubile.callId]] as const) {
      expect(ofCall(after, source, id)).toEqual({ objects: [], items: [] });
    }
    expect(ofCall(after, 'engage-voice', a.engage.uii).items).toHaveLength(2);
  });
});
