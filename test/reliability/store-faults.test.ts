import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startFaultStorage, type FaultStorage } from './support/fault-storage.ts';
import { inspector, type Inspector } from '../../lib/inspect.ts';
import { createStorage, createStorageClients, type Delivery, type Storage } from '#shared/storage';
// Types only: the modules themselves are imported after the SDK environment points at this file's servers.
import type * as ErrorsModule from '#shared/errors';
import type * as LogModule from '#shared/log';

/**
 * Faults under store() itself, with the real servers: stop S3, stop DynamoDB,
 * stall either behind a TCP proxy; then restart and retry. Own embedded
 * storage, so stopping it disturbs no other test file.
 */

let fs: FaultStorage;
let look: Inspector;
let storage: Storage;
let errors: typeof ErrorsModule;
let logMod: typeof LogModule;
const logLines: Record<string, unknown>[] = [];

beforeAll(async () => {
  fs = await startFaultStorage('store-faults');
  look = inspector(fs.storage, fs.bucketName, fs.tableName);
  storage = createStorage(createStorageClients()); // after the SDK environment points at this file's servers
  errors = await import('#shared/errors');
  logMod = await import('#shared/log');
  logMod.setLogSink((line) => { logLines.push(JSON.parse(line) as Record<string, unknown>); });
});

afterAll(async () => {
  look?.destroy();
  await fs?.stop();
});

afterEach(async () => {
  await fs.restoreAll();
});

const target = () => ({ bucketName: fs.bucketName, tableName: fs.tableName });
const log = () => new logMod.Logger({ test: 'store-faults' });

function jsonDelivery(callId: string, version = 1): Delivery {
  return {
    call: { source: 'volubile', callId, status: 'completed', startedAt: '2026-11-20T10:00:00.000Z', recordings: [] },
    sk: 'CALL',
    raw: { bytes: Buffer.from(JSON.stringify({ id: callId, version })), contentType: 'application/json', extension: 'json' },
    version,
    receivedAt: new Date('2026-11-20T10:05:00Z'),
  };
}

function audioDelivery(sessionId: string, recordingId: string): Delivery {
  const audio = Buffer.alloc(8_000 * 5, 0xff);
  return {
    call: { source: 'watsonx', callId: sessionId, startedAt: '2026-11-20T10:00:00.000Z', recordings: [{ id: recordingId, contentType: 'audio/wav', s3Key: `audio/watsonx/2026/11/20/${sessionId}/${recordingId}.wav` }] },
    sk: `REC#${recordingId}`,
    raw: { bytes: Buffer.from(JSON.stringify({ session_id: sessionId, recording_id: recordingId })), contentType: 'application/json', extension: 'json' },
    objects: [{ key: `audio/watsonx/2026/11/20/${sessionId}/${recordingId}.wav`, body: audio, contentType: 'audio/wav' }],
    version: 1,
    receivedAt: new Date('2026-11-20T10:05:00Z'),
  };
}

async function expect503(p: Promise<unknown>): Promise<void> {
  const err: unknown = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(errors.ServiceUnavailable);
  expect((err as InstanceType<typeof errors.HttpError>).statusCode).toBe(503);
}

describe('store() with S3 stopped', () => {
  it('answers 503, leaves no index item pointing at a missing object, and a retry after restart stores exactly one record', async () => {
    const id = randomUUID();
    await fs.stopS3();
    await expect503(storage.store(target(), jsonDelivery(id), log()));
    expect(await look.itemsOf('volubile', id)).toHaveLength(0);

    await fs.restoreAll();
    const again = await storage.store(target(), jsonDelivery(id), log());
    expect(again.outcome).toBe('stored');
    const items = await look.itemsOf('volubile', id);
    expect(items).toHaveLength(1);
    expect(await look.listKeys(`raw/volubile/2026/11/20/${id}/`)).toEqual([again.rawS3Key]);
  });

  it('watsonx: audio cannot be stored → 503 (the vendor retries), nothing indexed', async () => {
    const session = randomUUID();
    await fs.stopS3();
    await expect503(storage.store(target(), audioDelivery(session, 'r1'), log(), { indexBestEffort: true }));
    expect(await look.itemsOf('watsonx', session)).toHaveLength(0);
  });
});

describe('store() with DynamoDB stopped', () => {
  it('JSON source: 503, the raw archive is kept, and the retry after restart indexes it exactly once', async () => {
    const id = randomUUID();
    await fs.stopDynamo();
    await expect503(storage.store(target(), jsonDelivery(id), log()));
    expect(await look.listKeys(`raw/volubile/2026/11/20/${id}/`)).toHaveLength(1);

    await fs.restoreAll();
    const retry = await storage.store(target(), jsonDelivery(id), log());
    expect(retry.outcome).toBe('stored');
    const dup = await storage.store(target(), jsonDelivery(id), log());
    expect(dup.outcome).toBe('duplicate');
    expect(await look.itemsOf('volubile', id)).toHaveLength(1);
    expect(await look.listKeys(`raw/volubile/2026/11/20/${id}/`)).toHaveLength(1);
  });

  it('watsonx: 2xx once the audio is in S3, the index failure is logged and flagged; the retry indexes it once', async () => {
    const session = randomUUID();
    await fs.stopDynamo();
    logLines.length = 0;
    const res = await storage.store(target(), audioDelivery(session, 'r1'), log(), { indexBestEffort: true });
    expect(res).toMatchObject({ outcome: 'archived', indexError: true });
    expect(await look.listKeys(`audio/watsonx/2026/11/20/${session}/`)).toHaveLength(1);
    expect(await look.listKeys(`raw/watsonx/2026/11/20/${session}/`)).toEqual([res.rawS3Key]);
    expect(logLines.some((l) => l.level === 'ERROR' && l.message === 'index write failed' && l.rawS3Key === res.rawS3Key)).toBe(true);

    await fs.restoreAll();
    const retry = await storage.store(target(), audioDelivery(session, 'r1'), log(), { indexBestEffort: true });
    expect(retry).toEqual({ outcome: 'stored', rawS3Key: res.rawS3Key });
    expect(await look.itemsOf('watsonx', session)).toHaveLength(1);
  });
});

/**
 * Slow storage: a proxy that accepts the connection and never answers. The
 * storage call must be cut off by the SDK timeouts and answered 503 well
 * before the vendor gives up (watsonx: its configured 1–30 s; API Gateway: 30 s).
 */
export const STALL_DEADLINE_MS = 8_000;

describe('store() with stalled storage', () => {
  it('S3 stalls → 503 before the deadline, nothing indexed', async () => {
    const id = randomUUID();
    fs.s3Proxy.mode = 'stall';
    fs.s3Proxy.dropConnections();
    const t0 = performance.now();
    await expect503(storage.store(target(), jsonDelivery(id), log()));
    const ms = performance.now() - t0;
    console.log(`[measure] S3 stalled: 503 after ${Math.round(ms)} ms`);
    expect(ms).toBeLessThan(STALL_DEADLINE_MS);
    expect(await look.itemsOf('volubile', id)).toHaveLength(0);
  }, 30_000);

  it('DynamoDB stalls → JSON 503 before the deadline; watsonx 2xx with the audio safe', async () => {
    const id = randomUUID();
    fs.ddbProxy.mode = 'stall';
    fs.ddbProxy.dropConnections();
    let t0 = performance.now();
    await expect503(storage.store(target(), jsonDelivery(id), log()));
    let ms = performance.now() - t0;
    console.log(`[measure] DynamoDB stalled: JSON 503 after ${Math.round(ms)} ms`);
    expect(ms).toBeLessThan(STALL_DEADLINE_MS);

    const session = randomUUID();
    t0 = performance.now();
    const res = await storage.store(target(), audioDelivery(session, 'r1'), log(), { indexBestEffort: true });
    ms = performance.now() - t0;
    console.log(`[measure] DynamoDB stalled: watsonx 2xx after ${Math.round(ms)} ms`);
    expect(res.indexError).toBe(true);
    expect(ms).toBeLessThan(STALL_DEADLINE_MS);
    expect(await look.listKeys(`audio/watsonx/2026/11/20/${session}/`)).toHaveLength(1);
  }, 30_000);
});
