import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { DynamoDBClient, GetItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { startEmbeddedStorage, sdkEnvironment, ensureBucketAndTable, LOCAL_CREDENTIALS, LOCAL_REGION, type EmbeddedStorage } from '../../lib/embedded.ts';
import { startHttpProxy, returnOldItemOnConditionFailure, type HttpProxy } from '../../lib/http-proxy.ts';
import { inspector, type Inspector } from '../../lib/inspect.ts';
import { createStorage, createStorageClients, digestOfConditionFailure, type Delivery, type Storage } from '#shared/storage';
import type * as LogModule from '#shared/log';

/**
 * How many storage round trips a delivery waits for, seen from HTTP proxies in
 * front of this file's own s3rver and dynalite: the order and overlap of the
 * requests, their headers, and their count per delivery.
 */

const BUCKET = 'round-trips-bucket';
const TABLE = 'round-trips-table';
let storage: EmbeddedStorage;
let s3Proxy: HttpProxy;
let ddbProxy: HttpProxy;
let direct: DynamoDBClient;
let look: Inspector;
let mod: Storage;
let logMod: typeof LogModule;
/** Whether the DynamoDB proxy adds the stored item to a failed conditional put, as DynamoDB does and dynalite does not. */
let returnOldItem = false;

interface PutItemInput { ReturnValuesOnConditionCheckFailure?: string }

/** Feature injection: DynamoDB's `ReturnValuesOnConditionCheckFailure: ALL_OLD`, read from dynalite itself. */
const addOldItem = returnOldItemOnConditionFailure(async (TableName, Key) => {
  const old = await direct.send(new GetItemCommand({ TableName, Key: Key as Record<string, AttributeValue>, ConsistentRead: true }));
  return old.Item;
});

beforeAll(async () => {
  storage = await startEmbeddedStorage();
  await ensureBucketAndTable(storage, BUCKET, TABLE);
  s3Proxy = await startHttpProxy(() => storage.s3Endpoint);
  ddbProxy = await startHttpProxy(() => storage.dynamoEndpoint);
  ddbProxy.rewrite = (req, res) => (returnOldItem ? addOldItem(req, res) : res);
  direct = new DynamoDBClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: storage.dynamoEndpoint });
  Object.assign(process.env, sdkEnvironment({ s3Endpoint: s3Proxy.endpoint, dynamoEndpoint: ddbProxy.endpoint }));
  look = inspector(storage, BUCKET, TABLE);
  mod = createStorage(createStorageClients()); // its clients read the environment that points at the proxies
  logMod = await import('#shared/log');
});

afterAll(async () => {
  look?.destroy();
  direct?.destroy();
  await s3Proxy?.close();
  await ddbProxy?.close();
  await storage?.stop();
});

beforeEach(() => {
  returnOldItem = false;
  s3Proxy.holdMs = 0;
  s3Proxy.reset();
  ddbProxy.reset();
});

const target = { bucketName: BUCKET, tableName: TABLE };
const log = () => new logMod.Logger({ test: 'round-trips' });

function jsonDelivery(callId: string, version: number, body = JSON.stringify({ id: callId, version })): Delivery {
  return {
    call: { source: 'volubile', callId, status: 'completed', startedAt: '2026-11-20T10:00:00.000Z', recordings: [] },
    sk: 'CALL',
    raw: { bytes: Buffer.from(body), contentType: 'application/json', extension: 'json' },
    version,
    receivedAt: new Date('2026-11-20T10:05:00Z'),
  };
}

function audioDelivery(sessionId: string, audioBytes: number): Delivery {
  const key = `audio/watsonx/2026/11/20/${sessionId}/rec-1.wav`;
  return {
    call: { source: 'watsonx', callId: sessionId, startedAt: '2026-11-20T10:00:00.000Z', recordings: [{ id: 'rec-1', contentType: 'audio/wav', s3Key: key }] },
    sk: 'REC#rec-1',
    raw: { bytes: Buffer.from(JSON.stringify({ session_id: sessionId, recording_id: 'rec-1' })), contentType: 'application/json', extension: 'json' },
    objects: [{ key, body: Buffer.alloc(audioBytes, 0xff), contentType: 'audio/wav' }],
    version: 1,
    receivedAt: new Date('2026-11-20T10:05:00Z'),
  };
}

const s3Puts = () => s3Proxy.requests.filter((r) => r.method === 'PUT');
const ddbOps = () => ddbProxy.requests.map((r) => r.operation);

describe('store(): a new delivery', () => {
  it('writes the audio and the raw archive concurrently, and the index item only after both are stored', async () => {
    const id = randomUUID();
    // Holding S3's answers makes the overlap visible: sequential writes never have two in flight.
    s3Proxy.holdMs = 300;
    const result = await mod.store(target, audioDelivery(id, 40_000), log());
    expect(result.outcome).toBe('stored');
    const puts = s3Puts();
    expect(puts.map((r) => r.path.split('/')[2])).toEqual(expect.arrayContaining(['audio', 'raw']));
    expect(puts).toHaveLength(2);
    expect(s3Proxy.maxInFlight).toBe(2);
    const indexPut = ddbProxy.requests.find((r) => r.operation === 'PutItem');
    expect(indexPut).toBeDefined();
    for (const put of puts) expect(put.respondedSeq).toBeLessThan(indexPut!.seq);
    expect(await look.itemsOf('watsonx', id)).toHaveLength(1);
  });

  it('sends a large PUT (over the SDK\'s 2 MiB threshold) without waiting for 100 Continue', async () => {
    const id = randomUUID();
    const result = await mod.store(target, audioDelivery(id, 2_500_000), log());
    expect(result.outcome).toBe('stored');
    const audioPut = s3Puts().find((r) => r.path.includes('/audio/'));
    expect(audioPut?.body.length).toBe(2_500_000);
    expect(audioPut?.headers.expect).toBeUndefined();
  });

  it('takes one S3 and one DynamoDB request for a JSON delivery', async () => {
    const result = await mod.store(target, jsonDelivery(randomUUID(), 1), log());
    expect(result.outcome).toBe('stored');
    expect(s3Puts()).toHaveLength(1);
    expect(ddbOps()).toEqual(['PutItem']);
  });
});

describe('store(): duplicate or stale, decided from the failed conditional put', () => {
  it('tells a duplicate from the item DynamoDB returns with the failure, without a second read', async () => {
    returnOldItem = true;
    const id = randomUUID();
    await mod.store(target, jsonDelivery(id, 5), log());
    ddbProxy.reset();
    expect((await mod.store(target, jsonDelivery(id, 5), log())).outcome).toBe('duplicate');
    expect(ddbOps()).toEqual(['PutItem']);
    const put = JSON.parse(ddbProxy.requests[0]!.body.toString()) as PutItemInput;
    expect(put.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
  });

  it('tells a stale event from the returned item, and keeps the newer one', async () => {
    returnOldItem = true;
    const id = randomUUID();
    await mod.store(target, jsonDelivery(id, 10), log());
    ddbProxy.reset();
    expect((await mod.store(target, jsonDelivery(id, 5), log())).outcome).toBe('stale');
    expect(ddbOps()).toEqual(['PutItem']);
    expect((await look.itemsOf('volubile', id))[0]?.version).toBe(10);
  });

  it('falls back to one consistent read when the server returns no item (dynalite): duplicate', async () => {
    const id = randomUUID();
    await mod.store(target, jsonDelivery(id, 5), log());
    ddbProxy.reset();
    expect((await mod.store(target, jsonDelivery(id, 5), log())).outcome).toBe('duplicate');
    expect(ddbOps()).toEqual(['PutItem', 'GetItem']);
  });

  it('falls back to one consistent read when the server returns no item (dynalite): stale', async () => {
    const id = randomUUID();
    await mod.store(target, jsonDelivery(id, 10), log());
    ddbProxy.reset();
    expect((await mod.store(target, jsonDelivery(id, 5), log())).outcome).toBe('stale');
    expect(ddbOps()).toEqual(['PutItem', 'GetItem']);
  });
});

describe('digestOfConditionFailure', () => {
  it('reads the digest of a returned item and nothing else', () => {
    expect(digestOfConditionFailure({ Item: { digest: { S: 'abc' } } })).toBe('abc');
    expect(digestOfConditionFailure({ Item: { digest: { N: '1' } } })).toBeUndefined();
    expect(digestOfConditionFailure({ Item: {} })).toBeUndefined();
    expect(digestOfConditionFailure({ Item: undefined })).toBeUndefined();
    expect(digestOfConditionFailure(new Error('x'))).toBeUndefined();
    expect(digestOfConditionFailure(null)).toBeUndefined();
  });
});
