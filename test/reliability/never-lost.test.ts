import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { startEmbeddedStorage, ensureBucketAndTable, type EmbeddedStorage } from '../../lib/embedded.ts';
import { inspector, type Inspector } from '../../lib/inspect.ts';
import { loadBehindProxy, outcomeOf, stopBehindProxy, type Handlers } from './support/handlers.ts';
import { registryDelivery, sampleEnvironment, volubileDelivery, watsonxDelivery, type Delivery } from '../../lib/traffic.ts';
import { SOURCES, declarationOf } from '#shared/sources';
import { volubileRequest } from '../../lib/requests.ts';
import type * as ReindexCore from '../../lib/reindex/core.ts';
import { fitRecord, MAX_ITEM_NESTING } from '#shared/item-fit';
import type { CallRecord } from '#shared/model';

/**
 * Authenticated, well-formed deliveries that DynamoDB cannot take as they are
 * (over 400 KB, out-of-range numbers, keys the document client trips on,
 * nesting at the 32-level boundary) are answered 2xx, listed, shown and
 * reindexed; a ValidationException is never "storage unavailable".
 *
 * DynamoDB sits behind a small HTTP proxy of this test: it forwards every
 * request to the real dynalite, and refuses a PutItem with a ValidationException
 * only when a test asks for it (real DynamoDB refuses items dynalite accepts,
 * e.g. nesting past 32 levels).
 */

const BUCKET = 'never-lost';
const TABLE = 'never-lost';
const secrets = sampleEnvironment();
let storage: EmbeddedStorage;
let proxy: Server;
let look: Inspector;
let handlers: Handlers;
let core: typeof ReindexCore;
/** When set, a PutItem whose body matches is refused as real DynamoDB refuses an item. */
let refuse: ((body: string) => boolean) | undefined;
const settings = { engageTimeZone: secrets.ENGAGE_VOICE_TIMEZONE ?? 'UTC', defaultPhoneRegion: secrets.DEFAULT_PHONE_REGION ?? 'US' };

beforeAll(async () => {
  storage = await startEmbeddedStorage();
  await ensureBucketAndTable(storage, BUCKET, TABLE);
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (refuse && String(req.headers['x-amz-target']).endsWith('.PutItem') && refuse(body.toString('utf8'))) {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: 'com.amazon.coral.validate#ValidationException', message: 'Nesting Levels have exceeded supported limits' }));
        return;
      }
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== 'host' && k !== 'content-length').map(([k, v]) => [k, String(v)]));
      fetch(`${storage.dynamoEndpoint}${req.url ?? '/'}`, { method: req.method, headers, body: req.method === 'GET' ? undefined : body })
        .then(async (r) => {
          res.writeHead(r.status, Object.fromEntries(r.headers));
          res.end(Buffer.from(await r.arrayBuffer()));
        })
        .catch(() => res.destroy());
    });
  });
  look = inspector(storage, BUCKET, TABLE);
  ({ handlers, core } = await loadBehindProxy(storage, proxy, 'dynamodb', { ...secrets, BUCKET_NAME: BUCKET, TABLE_NAME: TABLE }));
});

afterAll(async () => {
  await stopBehindProxy(look, proxy, storage);
});

/** A correctly signed Volubile delivery of the sample call with `extra` fields merged in. */
function volubile(extra: Record<string, unknown> | string): Delivery {
  const id = randomUUID();
  const body = typeof extra === 'string'
    ? extra.replace('$ID', id)
    : JSON.stringify({ id, status: 'COMPLETED', startTime: '2026-11-20T14:35:00Z', endTime: '2026-11-20T14:41:00Z', phone: '+33612345678', ...extra });
  return { source: 'volubile', callId: id, request: volubileRequest(Buffer.from(body), { secret: secrets.VOLUBILE_WEBHOOK_SECRET, token: secrets.VOLUBILE_WEBHOOK_TOKEN }) };
}

async function itemOf(d: Delivery): Promise<Record<string, unknown> & { record: Record<string, unknown> }> {
  const items = await look.itemsOf(d.source, d.callId);
  expect(items, `${d.source} ${d.callId}`).toHaveLength(1);
  return items[0] as Record<string, unknown> & { record: Record<string, unknown> };
}

const nested = (levels: number): unknown => (levels === 0 ? 'leaf' : { n: nested(levels - 1) });

describe('deliveries DynamoDB cannot take as they are', () => {
  const cases: [string, () => Delivery, (record: Record<string, unknown>) => void][] = [
    ['a 500 KB summary', () => volubile({ summary: 's'.repeat(500_000) }), (r) => {
      expect(r.summary).toBeUndefined();
      expect(r.archivedOnly).toEqual([{ field: 'summary', reason: 'too large for one index item' }]);
    }],
    ['40,000 extracted keys', () => volubile({ extractorData: Object.fromEntries(Array.from({ length: 40_000 }, (_, i) => [`key${i}`, `value ${i}`])) }), (r) => {
      expect(r.extracted).toBeUndefined();
      expect(r.archivedOnly).toEqual([{ field: 'extracted', reason: 'too large for one index item' }]);
    }],
    ['numbers outside DynamoDB range, kept as their exact text', () => volubile(
      `{"id":"$ID","status":"COMPLETED","extractorData":{"tiny":1e-200,"denormal":1e-320,"huge":1e400,"long":1234567890123456789012345678901234567890.5,"ok":1.25}}`,
    ), (r) => {
      expect(r.extracted).toEqual({ tiny: '1e-200', denormal: '1e-320', huge: '1e400', long: '1234567890123456789012345678901234567890.5', ok: 1.25 });
      expect(r.archivedOnly).toBeUndefined();
    }],
    ['keys such as constructor and prototype in extracted data', () => volubile({ extractorData: { constructor: 'x', prototype: { constructor: 1 }, toString: 'y' } }), (r) => {
      expect(r.extracted).toEqual({ constructor: 'x', prototype: { constructor: 1 }, toString: 'y' });
    }],
    [`extracted data at the deepest nesting a body may have (record ${MAX_ITEM_NESTING} levels deep)`, () => volubile({ extractorData: nested(MAX_ITEM_NESTING - 1) }), (r) => {
      expect(r.extracted).toEqual(nested(MAX_ITEM_NESTING - 1));
      expect(r.archivedOnly).toBeUndefined();
    }],
  ];

  it.each(cases)('%s: 2xx, listed by day, shown, and the same item after a reindex', async (_name, make, check) => {
    const d = make();
    const res = await handlers.invoke(d);
    expect(res.statusCode, String(res.body).slice(0, 300)).toBe(200);
    expect(outcomeOf(res)).toBe('stored');
    const item = await itemOf(d);
    check(item.record);
    expect(item.GSI1PK).toMatch(/^DAY#\d{4}-\d{2}-\d{2}$/);
    const raw = await look.getBytes(String(item.record.rawS3Key));
    expect(raw.equals(d.request.body!)).toBe(true);
    // A retry is a duplicate, not a 503 loop.
    expect(outcomeOf(await handlers.invoke(d))).toBe('duplicate');

    await look.wipeTable();
    const report = await core.reindex({ s3: look.s3, bucketName: BUCKET, tableName: TABLE, settings, sources: ['volubile'] });
    expect(report.failed).toEqual([]);
    const rebuilt = await itemOf(d);
    const { receivedAt: _a, ...rebuiltRecord } = rebuilt.record;
    const { receivedAt: _b, ...liveRecord } = item.record;
    expect(rebuiltRecord).toEqual(liveRecord);
  });
});

describe('the index item at the 32-level boundary (pure fitting)', () => {
  const base: CallRecord = { source: 'volubile', callId: 'c', recordings: [], rawS3Key: 'raw/x', receivedAt: '2026-11-20T00:00:00.000Z' };
  it(`keeps extracted data whose record is exactly ${MAX_ITEM_NESTING} levels deep and archives one level more`, () => {
    // The record map is level 1, so extracted made of k nested maps makes a record 1 + k levels deep.
    const fits = fitRecord({ ...base, extracted: nested(MAX_ITEM_NESTING - 1) as Record<string, unknown> });
    expect(fits.archivedOnly).toEqual([]);
    const tooDeep = fitRecord({ ...base, extracted: nested(MAX_ITEM_NESTING) as Record<string, unknown> });
    expect(tooDeep.archivedOnly).toEqual([{ field: 'extracted', reason: `nested deeper than DynamoDB's ${MAX_ITEM_NESTING} levels` }]);
    expect(tooDeep.record.has('extracted')).toBe(false);
  });
});

describe('DynamoDB refusing an item is never "storage unavailable"', () => {
  it('stores the core fields when the full item is refused, and answers "archived" when even those are', async () => {
    const marker = `refuse-${randomUUID()}`;
    const d = volubile({ summary: marker });
    refuse = (body) => body.includes(marker);
    const res = await handlers.invoke(d);
    expect(res.statusCode).toBe(200);
    expect(outcomeOf(res)).toBe('stored');
    const item = await itemOf(d);
    expect(item.record.summary).toBeUndefined();
    expect(item.record.archivedOnly).toEqual(expect.arrayContaining([{ field: 'summary', reason: 'refused by DynamoDB' }]));
    expect(item.record).toMatchObject({ status: 'completed', startedAt: '2026-11-20T14:35:00.000Z', customerNumber: '+33612345678' });

    const d2 = volubile({ summary: 'refuse everything' });
    refuse = (body) => body.includes(d2.callId);
    const res2 = await handlers.invoke(d2);
    refuse = undefined;
    expect(res2.statusCode).toBe(200);
    expect(JSON.parse(String(res2.body))).toMatchObject({ outcome: 'archived', indexed: false, message: expect.stringContaining('archived, not indexed') });
    expect(await look.listKeys(`raw/volubile/2026/11/20/${d2.callId}/`)).toHaveLength(1);
    expect(await look.itemsOf('volubile', d2.callId)).toHaveLength(0);
  });
});

describe('watsonx with the index write failed', () => {
  it('says the recording was archived and not indexed', async () => {
    const d = await watsonxDelivery(secrets, 1);
    await storage.stopDynamo();
    try {
      const res = await handlers.invoke(d);
      expect(res.statusCode).toBe(200);
      expect(JSON.parse(String(res.body))).toMatchObject({ outcome: 'archived', indexed: false, message: expect.stringContaining('archived, not indexed') });
    } finally {
      await storage.startDynamo();
    }
    expect(await look.listKeys(`audio/watsonx/`)).toEqual(expect.arrayContaining([expect.stringContaining(`/${d.callId}/`)]));
  });
});

describe('a source that delivers once (the registry says the vendor never retries) with the index write failed', () => {
  const once = SOURCES.filter((s) => declarationOf(s).deliveredOnce);

  it('is declared for Vapi, which sends its end-of-call report once', () => {
    expect(once).toContain('vapi');
  });

  it.each(once)('%s: archived and not indexed (2xx), its raw body in the bucket; a source that retries gets the 503 it retries on', async (source) => {
    const d = await registryDelivery(secrets, source);
    const control = volubileDelivery(secrets);
    await storage.stopDynamo();
    let res: Awaited<ReturnType<Handlers['invoke']>>;
    let retried: Awaited<ReturnType<Handlers['invoke']>>;
    try {
      res = await handlers.invoke(d);
      retried = await handlers.invoke(control);
    } finally {
      await storage.startDynamo();
    }
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(String(res.body))).toMatchObject({ outcome: 'archived', indexed: false, message: expect.stringContaining('archived, not indexed') });
    expect(await look.listKeys(`${declarationOf(source).archive.raw}`)).toEqual(expect.arrayContaining([expect.stringContaining(`/${d.callId}/`)]));
    expect(retried.statusCode).toBe(503);
    // The reindex the answer asks for indexes it.
    await core.reindex({ s3: look.s3, bucketName: BUCKET, tableName: TABLE, settings, sources: [source] });
    expect(await look.itemsOf(source, d.callId)).toHaveLength(1);
  });
});
