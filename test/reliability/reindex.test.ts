import { describe, it, expect, beforeAll, afterAll, inject } from 'vitest';
import { randomUUID } from 'node:crypto';
import { ensureBucketAndTable } from '../../lib/embedded.ts';
import { inspector, type Inspector } from '../../lib/inspect.ts';
import { loadHandlers, type Handlers } from './support/handlers.ts';
import {
  sampleEnvironment, mixedDelivery, volubileDelivery, watsonxDelivery, engageDelivery, freshUii, type Delivery,
} from '../../lib/traffic.ts';
import type * as ReindexCore from '../../lib/reindex/core.ts';

/**
 * S3 is the system of record: store a mixed set through the real handlers,
 * wipe the table, rebuild it from the archive with the same interpreters, and
 * compare item for item. Then again (idempotent), and with --source / --since.
 */

const BUCKET = 'reliability-reindex';
const TABLE = 'reliability-reindex';
const secrets = sampleEnvironment();
let look: Inspector;
let handlers: Handlers;
let core: typeof ReindexCore;
const settings = { engageTimeZone: secrets.ENGAGE_VOICE_TIMEZONE ?? 'UTC', defaultPhoneRegion: secrets.DEFAULT_PHONE_REGION ?? 'US' };

beforeAll(async () => {
  const endpoints = inject('storage');
  await ensureBucketAndTable(endpoints, BUCKET, TABLE);
  Object.assign(process.env, secrets, { BUCKET_NAME: BUCKET, TABLE_NAME: TABLE });
  look = inspector(endpoints, BUCKET, TABLE);
  (await import('#shared/log')).setLogSink(() => undefined);
  handlers = await loadHandlers();
  core = await import('../../lib/reindex/core.ts');
});

afterAll(() => look?.destroy());

const byKey = (a: Record<string, unknown>, b: Record<string, unknown>) =>
  `${String(a.PK)}|${String(a.SK)}`.localeCompare(`${String(b.PK)}|${String(b.SK)}`);

const run = (extra: Partial<Parameters<typeof core.reindex>[0]> = {}) =>
  core.reindex({ s3: look.s3, bucketName: BUCKET, tableName: TABLE, settings, ...extra });

describe('reindex', () => {
  it('rebuilds a wiped table from the S3 archive, item for item, and a second run changes nothing', async () => {
    const deliveries: Delivery[] = [];
    for (let i = 0; i < 40; i++) deliveries.push(await mixedDelivery(secrets, i, 1));
    // Two recordings of one watsonx session; three versions of one Volubile call (newest arrives first);
    // two events of one Engage Voice segment.
    const session = randomUUID();
    deliveries.push(await watsonxDelivery(secrets, 1, session), await watsonxDelivery(secrets, 2, session));
    const id = randomUUID();
    const t = Date.parse('2026-11-20T15:00:00Z');
    deliveries.push(volubileDelivery(secrets, id, t + 120_000), volubileDelivery(secrets, id, t), volubileDelivery(secrets, id, t + 60_000));
    const uii = freshUii();
    deliveries.push(engageDelivery(secrets, uii, 300), engageDelivery(secrets, uii, 100, 'form'));
    for (const d of deliveries) expect((await handlers.invoke(d)).statusCode).toBe(200);

    const live = (await look.scanAll()).sort(byKey);
    expect(live.length).toBe(40 + 1 + 1 + 1 + 1); // the session has 2 recordings = 2 items
    expect(await look.wipeTable()).toBe(live.length);
    expect(await look.scanAll()).toHaveLength(0);

    const report = await run();
    const rawCount = (await look.listKeys('raw/')).length;
    expect(report.failed).toEqual([]);
    expect(report.keyMismatches).toEqual([]);
    expect(report.scanned).toBe(rawCount);
    expect(report.outcomes.stored + report.outcomes.stale).toBe(rawCount);
    const rebuilt = (await look.scanAll()).sort(byKey);
    expect(rebuilt).toEqual(live);

    const again = await run();
    // Every item's newest event is a duplicate now; every older event is stale.
    expect(again.outcomes).toEqual({ stored: 0, duplicate: live.length, stale: rawCount - live.length, archived: 0 });
    expect((await look.scanAll()).sort(byKey)).toEqual(live);
  }, 60_000);

  it('--source limits the rebuild to one source; --since skips older archive days', async () => {
    const before = (await look.scanAll()).sort(byKey);
    await look.wipeTable();
    const only = await run({ sources: ['volubile'] });
    expect(only.failed).toEqual([]);
    const items = await look.scanAll();
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((i) => i.source === 'volubile')).toBe(true);

    const future = await run({ since: '2099-01-01' });
    expect(future.scanned).toBe(0);
    const sameDay = await run({ since: '2026-11-20' });
    expect(sameDay.failed).toEqual([]);
    expect((await look.scanAll()).sort(byKey)).toEqual(before);
  }, 60_000);

  it('repairs what a DynamoDB outage left unindexed (a watsonx recording answered 2xx with only S3 written)', async () => {
    // The handler path stored the audio and raw archive; simulate the failed index write by deleting the item.
    const d = await watsonxDelivery(secrets, 1);
    expect((await handlers.invoke(d)).statusCode).toBe(200);
    const [item] = await look.itemsOf('watsonx', d.callId);
    expect(item).toBeDefined();
    await look.ddb.send(new (await import('@aws-sdk/lib-dynamodb')).DeleteCommand({ TableName: TABLE, Key: { PK: item!.PK, SK: item!.SK } }));
    expect(await look.itemsOf('watsonx', d.callId)).toHaveLength(0);
    const report = await run({ sources: ['watsonx'] });
    expect(report.failed).toEqual([]);
    expect(report.outcomes.stored).toBe(1);
    expect(await look.itemsOf('watsonx', d.callId)).toEqual([item]);
  }, 60_000);

  it('reports, and does not index, an archived body the interpreter rejects', async () => {
    const { PutObjectCommand } = await import('@aws-sdk/client-s3');
    const key = `raw/volubile/2026/11/21/not-a-call/${'0'.repeat(64)}.json`;
    await look.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: '{"nope":true}', ContentType: 'application/json', Metadata: { 'received-at': '2026-11-21T00:00:00.000Z' } }));
    const report = await run({ sources: ['volubile'], since: '2026-11-21' });
    expect(report.failed.map((f) => f.key)).toEqual([key]);
    expect(await look.itemsOf('volubile', 'not-a-call')).toHaveLength(0);
  });
});
