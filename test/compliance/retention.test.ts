import { describe, it, expect } from 'vitest';
import { randomUUID } from 'node:crypto';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { createStorage, createStorageClients, type Delivery } from '#shared/storage';
import { readSettings } from '#shared/config';
import { Logger } from '#shared/log';
import { CALL_SK, HOLD_ATTRIBUTE, TABLE_SCHEMA, TTL_ATTRIBUTE, callPk } from '#shared/table';
import { ddb, getItem, bucket, table } from '../support/storage.ts';

/**
 * The handler side of retention and holds, on the embedded DynamoDB: index
 * items carry the TTL the stack's RETENTION_DAYS asks for, counted from the
 * delivery (as the S3 lifecycle counts from the archive's creation), and a
 * held item is never replaced by a later delivery.
 */

const { store } = createStorage(createStorageClients());
const log = new Logger({ test: 'retention' });
const receivedAt = new Date('2026-11-21T09:00:00Z');

function delivery(callId: string, version: number): Delivery {
  return {
    call: { source: 'volubile', callId, status: 'completed', startedAt: '2026-11-20T10:00:00.000Z', recordings: [] },
    sk: CALL_SK,
    raw: { bytes: Buffer.from(JSON.stringify({ callId, version })), contentType: 'application/json', extension: 'json' },
    version,
    receivedAt,
  };
}

describe('index item TTL', () => {
  it('is receivedAt + RETENTION_DAYS in epoch seconds when the stage has a retention', async () => {
    const id = randomUUID();
    const settings = readSettings({ BUCKET_NAME: bucket(), TABLE_NAME: table(), RETENTION_DAYS: '30' });
    expect((await store(settings, delivery(id, 1), log)).outcome).toBe('stored');
    const item = await getItem('volubile', id, CALL_SK);
    expect(item?.[TTL_ATTRIBUTE]).toBe(Date.parse('2026-12-21T09:00:00Z') / 1000);
  });

  it('is absent with retention forever (no RETENTION_DAYS)', async () => {
    const id = randomUUID();
    await store(readSettings({ BUCKET_NAME: bucket(), TABLE_NAME: table() }), delivery(id, 1), log);
    const item = await getItem('volubile', id, CALL_SK);
    expect(item).toBeDefined();
    expect(item).not.toHaveProperty(TTL_ATTRIBUTE);
  });

  it('refuses a RETENTION_DAYS that is not a whole number of days', () => {
    expect(() => readSettings({ BUCKET_NAME: 'b', TABLE_NAME: 't', RETENTION_DAYS: '30d' })).toThrow(/RETENTION_DAYS "30d"/);
    expect(() => readSettings({ BUCKET_NAME: 'b', TABLE_NAME: 't', RETENTION_DAYS: '0' })).toThrow(/RETENTION_DAYS/);
  });
});

describe('a held item', () => {
  it('is not replaced by a newer delivery, and is again once the hold is lifted', async () => {
    const id = randomUUID();
    const target = { bucketName: bucket(), tableName: table(), retentionDays: 30 };
    await store(target, delivery(id, 1), log);
    const key = { [TABLE_SCHEMA.partitionKey]: callPk('volubile', id), [TABLE_SCHEMA.sortKey]: CALL_SK };
    await ddb.send(new UpdateCommand({
      TableName: table(), Key: key,
      UpdateExpression: 'SET #hold = :hold REMOVE #ttl',
      ExpressionAttributeNames: { '#hold': HOLD_ATTRIBUTE, '#ttl': TTL_ATTRIBUTE },
      ExpressionAttributeValues: { ':hold': { since: receivedAt.toISOString(), by: 'test' } },
    }));
    expect((await store(target, delivery(id, 2), log)).outcome).toBe('stale');
    const held = await getItem('volubile', id, CALL_SK);
    expect(held).toMatchObject({ version: 1, [HOLD_ATTRIBUTE]: { by: 'test' } });
    expect(held).not.toHaveProperty(TTL_ATTRIBUTE);

    await ddb.send(new UpdateCommand({ TableName: table(), Key: key, UpdateExpression: 'REMOVE #hold', ExpressionAttributeNames: { '#hold': HOLD_ATTRIBUTE } }));
    expect((await store(target, delivery(id, 2), log)).outcome).toBe('stored');
    expect(await getItem('volubile', id, CALL_SK)).toMatchObject({ version: 2, [TTL_ATTRIBUTE]: expect.any(Number) });
  });
});
