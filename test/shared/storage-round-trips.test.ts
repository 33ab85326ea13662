import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { DynamoDBClient, GetItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { startEmbeddedStorage, sdkEnvironment, ensureBucketAndTable, LOCAL_CREDENTIALS, LOCAL_REGION, type EmbeddedStorage } from '../../lib/embedded.ts';
import { startHttpProxy, returnOldItemOnConditionFailure, type HttpProxy, type ProxiedRequest } from '../../lib/http-proxy.ts';
import { inspector, type Inspector } from '../../lib/inspect.ts';
import { createStorage, createStorageClients, storedWriteOfConditionFailure, classifyConditionFailure, type Delivery, type Storage } from '#shared/storage';
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
  ddbProxy.stallResponse = undefined;
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

const pkOf = (req: ProxiedRequest) => (JSON.parse(req.body.toString()) as { Item?: { PK?: { S?: string } } }).Item?.PK?.S;

/** Stall the answer to the first PutItem request of each call (the write lands, the SDK times out and retries). */
function loseFirstPutAnswer(): void {
  ddbProxy.stallResponse = (req) =>
    req.operation === 'PutItem' && ddbProxy.requests.find((r) => r.operation === 'PutItem' && pkOf(r) === pkOf(req)) === req;
}

const putAttempts = () => ddbProxy.requests.filter((r) => r.operation === 'PutItem').map((r) => ({ attempt: r.headers['amz-sdk-request'], stalled: r.stalled ?? false }));

describe('store(): a put that landed but whose answer was lost (the SDK retried it)', () => {
  for (const server of ['dynalite', 'DynamoDB (ALL_OLD)'] as const) {
    it(`${server}: the retry finds this delivery's own item: stored, not duplicate, item unchanged`, async () => {
      returnOldItem = server !== 'dynalite';
      loseFirstPutAnswer();
      const id = randomUUID();
      const result = await mod.store(target, jsonDelivery(id, 5), log());
      expect(putAttempts()).toEqual([{ attempt: 'attempt=1; max=3', stalled: true }, { attempt: 'attempt=2; max=3', stalled: false }]);
      expect(result.outcome).toBe('stored');
      const items = await look.itemsOf('volubile', id);
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({ version: 5, record: { rawS3Key: result.rawS3Key, receivedAt: '2026-11-20T10:05:00.000Z' } });
      // The vendor's own retry of that event is a duplicate.
      expect((await mod.store(target, jsonDelivery(id, 5), log())).outcome).toBe('duplicate');
    });
  }

  it('a vendor duplicate whose put was retried still is a duplicate (the stored item came from another receipt)', async () => {
    const id = randomUUID();
    await mod.store(target, jsonDelivery(id, 5), log());
    ddbProxy.reset();
    // The duplicate's first attempt fails its condition; stall its answer: the SDK retries, and fails again.
    loseFirstPutAnswer();
    const later = { ...jsonDelivery(id, 5), receivedAt: new Date('2026-11-20T10:06:00Z') };
    expect((await mod.store(target, later, log())).outcome).toBe('duplicate');
    expect(putAttempts().map((a) => a.stalled)).toEqual([true, false]);
  });

  it('a newer event stored between the lost answer and the retry wins; the retry is answered stale', async () => {
    const id = randomUUID();
    loseFirstPutAnswer();
    // When the older event's first put has landed (its answer then lost), the newer one is stored.
    ddbProxy.rewrite = async (req, res) => {
      if (req.operation === 'PutItem' && putAttempts().length === 1) {
        expect((await mod.store(target, jsonDelivery(id, 10), log())).outcome).toBe('stored');
      }
      return res;
    };
    try {
      expect((await mod.store(target, jsonDelivery(id, 5), log())).outcome).toBe('stale');
    } finally {
      ddbProxy.rewrite = (req, res) => (returnOldItem ? addOldItem(req, res) : res);
    }
    const items = await look.itemsOf('volubile', id);
    expect(items).toHaveLength(1);
    expect(items[0]?.version).toBe(10);
    expect(putAttempts().map((a) => a.stalled)).toEqual([true, false, false]);
  });
});

describe('storedWriteOfConditionFailure', () => {
  it('reads the digest and receipt of a returned item and nothing else', () => {
    expect(storedWriteOfConditionFailure({ Item: { digest: { S: 'abc' }, GSI3SK: { S: 'r' } } })).toEqual({ digest: 'abc', receivedSk: 'r' });
    expect(storedWriteOfConditionFailure({ Item: { digest: { S: 'abc' } } })).toEqual({ digest: 'abc', receivedSk: undefined });
    expect(storedWriteOfConditionFailure({ Item: { digest: { N: '1' } } })).toBeUndefined();
    expect(storedWriteOfConditionFailure({ Item: {} })).toBeUndefined();
    expect(storedWriteOfConditionFailure({ Item: undefined })).toBeUndefined();
    expect(storedWriteOfConditionFailure(new Error('x'))).toBeUndefined();
    expect(storedWriteOfConditionFailure(null)).toBeUndefined();
  });
});

describe('classifyConditionFailure', () => {
  const ours = { digest: 'd1', GSI3SK: 'at-1' };
  it('our own item found by a retried put is stored; by a first attempt, or from another receipt, a duplicate', () => {
    expect(classifyConditionFailure(ours, { digest: 'd1', receivedSk: 'at-1' }, 2)).toBe('stored');
    expect(classifyConditionFailure(ours, { digest: 'd1', receivedSk: 'at-1' }, 1)).toBe('duplicate');
    expect(classifyConditionFailure(ours, { digest: 'd1', receivedSk: 'at-2' }, 3)).toBe('duplicate');
    expect(classifyConditionFailure(ours, { digest: 'd1' }, 2)).toBe('duplicate');
  });
  it('another digest is a newer event: stale, retried or not', () => {
    expect(classifyConditionFailure(ours, { digest: 'd2', receivedSk: 'at-1' }, 2)).toBe('stale');
    expect(classifyConditionFailure(ours, { digest: undefined }, 1)).toBe('stale');
  });
});
