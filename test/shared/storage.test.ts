import { describe, it, expect } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createStorage, createStorageClients, type Delivery } from '#shared/storage';
import { sha256Hex } from '#shared/keys';
import { Logger } from '#shared/log';
import { CALL_SK } from '#shared/table';
import { getItem, getObjectBytes, listKeys, bucket, table } from '../support/storage.ts';

const { store } = createStorage(createStorageClients());
const target = () => ({ bucketName: bucket(), tableName: table() });
const log = new Logger({ test: 'storage' });

function delivery(callId: string, version: number, body: string): Delivery {
  return {
    call: { source: 'volubile', callId, status: 'completed', startedAt: '2026-11-20T10:00:00.000Z', recordings: [] },
    sk: CALL_SK,
    raw: { bytes: Buffer.from(body), contentType: 'application/json', extension: 'json' },
    version,
    receivedAt: new Date('2026-11-21T09:00:00Z'),
  };
}

describe('store', () => {
  it('archives the raw bytes before indexing, content-addressed under the call day', async () => {
    const id = randomUUID();
    const body = JSON.stringify({ id, n: 1 });
    const result = await store(target(), delivery(id, 1, body), log);
    expect(result.outcome).toBe('stored');
    expect(result.rawS3Key).toBe(`raw/volubile/2026/11/20/${id}/${sha256Hex(body)}.json`);
    expect((await getObjectBytes(result.rawS3Key)).toString()).toBe(body);
    const item = await getItem('volubile', id, CALL_SK);
    expect(item?.record.rawS3Key).toBe(result.rawS3Key);
    expect(item?.GSI1PK).toBe('DAY#2026-11-20');
  });

  it('answers a repeated delivery as a duplicate and stores nothing new', async () => {
    const id = randomUUID();
    const body = JSON.stringify({ id });
    await store(target(), delivery(id, 5, body), log);
    const again = await store(target(), delivery(id, 5, body), log);
    expect(again.outcome).toBe('duplicate');
    expect(await listKeys(`raw/volubile/2026/11/20/${id}/`)).toHaveLength(1);
  });

  it('lets a newer event replace an older one, never the reverse', async () => {
    const id = randomUUID();
    await store(target(), delivery(id, 10, '{"v":10}'), log);
    expect((await store(target(), delivery(id, 5, '{"v":5}'), log)).outcome).toBe('stale');
    expect((await getItem('volubile', id, CALL_SK))?.version).toBe(10);
    expect((await store(target(), delivery(id, 20, '{"v":20}'), log)).outcome).toBe('stored');
    expect((await getItem('volubile', id, CALL_SK))?.version).toBe(20);
  });
});
