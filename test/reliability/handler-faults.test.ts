import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { startFaultStorage, type FaultStorage } from './support/fault-storage.ts';
import { inspector, type Inspector } from '../../lib/inspect.ts';
import { loadHandlers, outcomeOf, type Handlers } from './support/handlers.ts';
import { sampleEnvironment, mixedDelivery, type Delivery } from '../../lib/traffic.ts';
import { declarationOf, type Source } from '#shared/sources';

/** Answered 2xx `archived` when only the index write fails: watsonx (its audio is in S3), and a source whose vendor never retries. */
const archivedWithoutIndex = (source: Source) => source === 'watsonx' || declarationOf(source).deliveredOnce === true;

/**
 * The same faults through the real handlers, one delivery per source and
 * request shape: S3 stopped → 503 and no index item; DynamoDB stopped → JSON
 * sources 503, watsonx 2xx (audio safe, failure counted and logged); restart,
 * retry the SAME requests → exactly one record each. Stalled storage → 503
 * before the deadline.
 */

let fs: FaultStorage;
let look: Inspector;
let handlers: Handlers;
const secrets = sampleEnvironment();
const lines: Record<string, unknown>[] = [];
const DEADLINE_MS = 8_000;

beforeAll(async () => {
  fs = await startFaultStorage('handler-faults');
  Object.assign(process.env, secrets, { BUCKET_NAME: fs.bucketName, TABLE_NAME: fs.tableName });
  look = inspector(fs.storage, fs.bucketName, fs.tableName);
  (await import('#shared/log')).setLogSink((l) => { lines.push(JSON.parse(l) as Record<string, unknown>); });
  handlers = await loadHandlers();
});
afterAll(async () => { look?.destroy(); await fs?.stop(); });
afterEach(async () => { await fs.restoreAll(); });

async function batch(n: number): Promise<Delivery[]> {
  const out: Delivery[] = [];
  for (let i = 0; i < n; i++) out.push(await mixedDelivery(secrets, i, 1));
  return out;
}

async function expectOneRecordEach(ds: Delivery[]): Promise<void> {
  for (const d of ds) expect(await look.itemsOf(d.source, d.callId), `${d.source} ${d.callId}`).toHaveLength(1);
}

describe('handlers with S3 stopped', () => {
  it('every source answers 503 and indexes nothing; after restart the retries store exactly one record each', async () => {
    const ds = await batch(12);
    await fs.stopS3();
    for (const d of ds) {
      const res = await handlers.invoke(d);
      expect(res.statusCode, d.source).toBe(503);
      expect(res.headers?.['retry-after']).toBe('5');
    }
    expect(await look.scanAll()).toHaveLength(0);

    await fs.restoreAll();
    for (const d of ds) expect((await handlers.invoke(d)).statusCode).toBe(200);
    for (const d of ds) expect(outcomeOf(await handlers.invoke(d))).toBe('duplicate');
    await expectOneRecordEach(ds);
  });
});

describe('handlers with DynamoDB stopped', () => {
  it('sources that retry 503; watsonx and Vapi (which never retries) 2xx once their bytes are in S3, counted and logged; retries after restart: one record each', async () => {
    const ds = await batch(12);
    await fs.stopDynamo();
    lines.length = 0;
    for (const d of ds) {
      const res = await handlers.invoke(d);
      expect(res.statusCode, d.source).toBe(archivedWithoutIndex(d.source) ? 200 : 503);
    }
    const watsonx = ds.filter((d) => d.source === 'watsonx');
    for (const d of watsonx) expect(await look.listKeys(`audio/watsonx/`)).toEqual(expect.arrayContaining([expect.stringContaining(`/${d.callId}/`)]));
    expect(ds.some((d) => d.source === 'vapi')).toBe(true);
    expect(lines.filter((l) => l.IndexWriteFailed === 1)).toHaveLength(ds.filter((d) => archivedWithoutIndex(d.source)).length);
    expect(lines.filter((l) => l.level === 'ERROR' && l.message === 'index write failed')).toHaveLength(ds.length);

    await fs.restoreAll();
    for (const d of ds) expect((await handlers.invoke(d)).statusCode).toBe(200);
    await expectOneRecordEach(ds);
  });
});

describe('handlers with stalled storage', () => {
  it('S3 stalls: 503 before the deadline for every handler', async () => {
    const ds = await batch(4);
    fs.s3Proxy.mode = 'stall';
    fs.s3Proxy.dropConnections();
    const times = await Promise.all(ds.map(async (d) => {
      const t0 = performance.now();
      const res = await handlers.invoke(d);
      expect(res.statusCode, d.source).toBe(503);
      return performance.now() - t0;
    }));
    console.log(`[measure] handlers, S3 stalled: 503 after max ${Math.round(Math.max(...times))} ms`);
    expect(Math.max(...times)).toBeLessThan(DEADLINE_MS);
    for (const d of ds) expect(await look.itemsOf(d.source, d.callId)).toHaveLength(0);
  }, 30_000);

  it('DynamoDB stalls: 503 for sources that retry, watsonx and Vapi 2xx, before the deadline', async () => {
    const ds = await batch(4);
    fs.ddbProxy.mode = 'stall';
    fs.ddbProxy.dropConnections();
    const times = await Promise.all(ds.map(async (d) => {
      const t0 = performance.now();
      const res = await handlers.invoke(d);
      expect(res.statusCode, d.source).toBe(archivedWithoutIndex(d.source) ? 200 : 503);
      return performance.now() - t0;
    }));
    console.log(`[measure] handlers, DynamoDB stalled: answered after max ${Math.round(Math.max(...times))} ms`);
    expect(Math.max(...times)).toBeLessThan(DEADLINE_MS);
  }, 30_000);
});
