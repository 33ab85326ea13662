import { describe, it, expect, beforeAll, inject } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { ensureBucketAndTable } from '../../lib/embedded.ts';
import { s3, ddb, getObjectBytes } from '../support/storage.ts';
import { configureHandlers, scenario, invoke, type Scenario } from '../calls/support.ts';
import { phoneHash, type Receipt } from '../../lib/calls/erasure.ts';
import { HOLD_ATTRIBUTE } from '#shared/table';
import { snapshot, difference, tempDataDir, cli, type Snapshot } from './support.ts';

/**
 * `calls forget` and `calls hold` on the embedded s3rver + dynalite, with calls
 * stored by the real handlers (all four sources, two calls each) in a bucket
 * and table of this file's own, so whole-bucket and whole-table listings
 * before and after show exactly what was erased. s3rver has no versions and no
 * Object Lock: this is the unversioned path (test/compliance/versions.test.ts
 * covers versions and legal holds on a stand-in).
 */

const BUCKET = 'compliance-forget';
const TABLE = 'compliance-forget';
const dataDir = tempDataDir();
let env: Record<string, string | undefined>;
let a: Scenario;
let b: Scenario;

const snap = () => snapshot(s3, ddb, BUCKET, TABLE, false);
const run = (argv: string[], answer?: string) => cli(env, argv, answer);
const PHONES = ['6175550142', '33612345678', '4155550123'];

function receiptKeyIn(out: string): string {
  const key = /Receipt: (receipts\/\S+\.json)/.exec(out)?.[1];
  if (!key) throw new Error(`no receipt in: ${out}`);
  return key;
}

async function readReceipt(key: string): Promise<{ text: string; receipt: Receipt }> {
  const text = (await getObjectBytes(key, BUCKET)).toString('utf8');
  return { text, receipt: JSON.parse(text) as Receipt };
}

/** Objects and items of one call, as the bucket and table hold them. */
function ofCall(s: Snapshot, source: string, callId: string) {
  return {
    objects: s.objects.filter((k) => k.startsWith(`raw/${source}/`) || k.startsWith(`audio/${source}/`)).filter((k) => k.split('/')[5] === callId),
    items: s.items.filter((i) => i.startsWith(`CALL#${source}#${callId}|`)),
  };
}

beforeAll(async () => {
  const storage = inject('storage');
  await ensureBucketAndTable(storage, BUCKET, TABLE);
  Object.assign(process.env, { BUCKET_NAME: BUCKET, TABLE_NAME: TABLE });
  configureHandlers();
  env = {
    BUCKET_NAME: BUCKET, TABLE_NAME: TABLE, DATA_DIR: dataDir, DEFAULT_PHONE_REGION: 'US',
    LOCAL_S3_PORT: new URL(storage.s3Endpoint).port, LOCAL_DYNAMODB_PORT: new URL(storage.dynamoEndpoint).port,
  };
  a = await scenario();
  b = await scenario();
  for (const r of [...a.requests, ...b.requests]) expect((await invoke(r)).statusCode).toBe(200);
  // A vendor recording archived by the recordings worker (audio/<source>/<yyyy>/<mm>/<dd>/<callId>/<recordingId>.<ext>) for each Synthflow call.
  for (const s of [a, b]) {
    await s3.send(new PutObjectCommand({
      Bucket: BUCKET, Key: `audio/synthflow/${s.day.replaceAll('-', '/')}/${s.synthflow.callId}/rec-1.wav`, Body: Buffer.from('RIFF....WAVE'), ContentType: 'audio/wav',
    }));
  }
});

describe('forget <source> <callId>', () => {
  it('--dry-run lists the items and objects and erases nothing', async () => {
    const before = await snap();
    const { code, out, err } = await run(['forget', 'watsonx', a.watsonx.sessionId, '--dry-run']);
    expect(code).toBe(0);
    const mine = ofCall(before, 'watsonx', a.watsonx.sessionId);
    expect(mine.items).toHaveLength(2);
    expect(mine.objects).toHaveLength(4); // two raw metadata bodies, two recordings
    for (const k of mine.objects) expect(out).toContain(k);
    for (const rec of a.watsonx.recordingIds) expect(out).toContain(`REC#${rec}`);
    expect(err).toMatch(/Dry run: 1 call\(s\), 6 item\(s\) and object version\(s\) would be erased; nothing was/);
    expect(await snap()).toEqual(before);
  });

  it('asks first: anything but "yes", or nobody to ask, erases nothing', async () => {
    const before = await snap();
    const no = await run(['forget', 'watsonx', a.watsonx.sessionId], 'no');
    expect(no.code).toBe(1);
    expect(no.asked[0]).toMatch(/Erase 1 call\(s\) — 6 item\(s\) and object version\(s\) — from .*Type yes to erase/);
    expect(no.err).toMatch(/Not confirmed\. Nothing was erased/);
    const none = await run(['forget', 'watsonx', a.watsonx.sessionId]);
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/no terminal to ask\): pass --yes/);
    expect(await snap()).toEqual(before);
  });

  it('erases a watsonx session (items, raw bodies, audio) and nothing else, and writes a receipt of it', async () => {
    const before = await snap();
    const mine = ofCall(before, 'watsonx', a.watsonx.sessionId);
    const { code, out } = await run(['forget', 'watsonx', a.watsonx.sessionId], 'yes');
    expect(code).toBe(0);
    const after = await snap();
    const d = difference(before, after);
    const key = receiptKeyIn(out);
    expect(d.objectsGone.sort()).toEqual(mine.objects.sort());
    expect(d.itemsGone.sort()).toEqual(mine.items.sort());
    expect(d.objectsNew).toEqual([key]);
    expect(d.itemsNew).toEqual([]);
    // The other session is all there.
    expect(ofCall(after, 'watsonx', b.watsonx.sessionId)).toEqual(ofCall(before, 'watsonx', b.watsonx.sessionId));

    const { receipt } = await readReceipt(key);
    expect(receipt).toMatchObject({
      type: 'erasure-receipt', request: { by: 'call', source: 'watsonx', callId: a.watsonx.sessionId },
      principal: expect.stringMatching(/^local:/), bucket: { name: BUCKET, versioned: false, objectLock: false }, table: TABLE,
      counts: { calls: 1, items: 2, objects: 4, versions: 4, failed: 0 }, complete: true,
    });
    expect(receipt.calls[0]!.objects.map((o) => o.key).sort()).toEqual(mine.objects.sort());
    expect(receipt.calls[0]!.items.map((i) => `${i.PK}|${i.SK}`).sort()).toEqual(mine.items.sort());
    expect(Date.parse(receipt.erasedAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('erases a Synthflow call with its archived vendor recording', async () => {
    const before = await snap();
    const mine = ofCall(before, 'synthflow', a.synthflow.callId);
    expect(mine.objects.some((k) => k.startsWith('audio/synthflow/'))).toBe(true);
    expect(mine.objects.some((k) => k.startsWith('raw/synthflow/'))).toBe(true);
    const { code, out } = await run(['forget', 'synthflow', a.synthflow.callId, '--yes']);
    expect(code).toBe(0);
    const d = difference(before, await snap());
    expect(d.objectsGone.sort()).toEqual(mine.objects.sort());
    expect(d.itemsGone).toEqual(mine.items);
    expect(d.objectsNew).toEqual([receiptKeyIn(out)]);
  });

  it('finds the raw archive of a call whose index items are gone when given its day', async () => {
    const items = ofCall(await snap(), 'synthflow', b.synthflow.callId).items;
    expect(items).toHaveLength(1);
    const [pk, sk] = items[0]!.split('|');
    await ddb.send(new DeleteCommand({ TableName: TABLE, Key: { PK: pk, SK: sk } }));
    const before = await snap();
    const mine = ofCall(before, 'synthflow', b.synthflow.callId);
    expect(mine.objects).toHaveLength(2); // raw body + vendor recording, no item
    const blind = await run(['forget', 'synthflow', b.synthflow.callId, '--yes']);
    expect(blind.code).toBe(1);
    expect(blind.out).toMatch(/add --day YYYY-MM-DD/);
    expect(await snap()).toEqual(before);
    const { code } = await run(['forget', 'synthflow', b.synthflow.callId, '--day', b.day, '--yes']);
    expect(code).toBe(0);
    expect(difference(before, await snap()).objectsGone.sort()).toEqual(mine.objects.sort());
  });
});

describe('forget --phone', () => {
  it('erases every call of the number (both Engage Voice calls, every segment) and records the number only as a keyed hash', async () => {
    const before = await snap();
    const mine = [ofCall(before, 'engage-voice', a.engage.uii), ofCall(before, 'engage-voice', b.engage.uii)];
    for (const m of mine) { expect(m.items).toHaveLength(2); expect(m.objects).toHaveLength(2); }
    const { code, out, err } = await run(['forget', '--phone', '(617) 555-0142', '--yes']);
    expect(code).toBe(0);
    const d = difference(before, await snap());
    const key = receiptKeyIn(out);
    expect(d.objectsGone.sort()).toEqual(mine.flatMap((m) => m.objects).sort());
    expect(d.itemsGone.sort()).toEqual(mine.flatMap((m) => m.items).sort());
    expect(d.objectsNew).toEqual([key]);
    for (const p of PHONES) expect(`${out}\n${err}`).not.toContain(p);

    const { text, receipt } = await readReceipt(key);
    const receiptKey = readFileSync(join(dataDir, 'receipt-key'), 'utf8').trim();
    expect(receipt.request).toEqual({ by: 'phone', phoneHash: phoneHash(receiptKey, '+16175550142') });
    expect(receipt.request).not.toEqual({ by: 'phone', phoneHash: phoneHash('another key', '+16175550142') });
    expect(receipt.counts).toMatchObject({ calls: 2, items: 4, objects: 4 });
    for (const p of PHONES) expect(text).not.toContain(p);
    expect(text).not.toContain('PHONE#');
  });

  it('a number with no calls erases nothing and still leaves a receipt of the search', async () => {
    const before = await snap();
    const { code, out } = await run(['forget', '--phone', '+1 202 555 0100', '--yes']);
    expect(code).toBe(0);
    expect(out).toMatch(/No call is stored for this number/);
    const d = difference(before, await snap());
    expect(d.objectsGone).toEqual([]);
    expect(d.itemsGone).toEqual([]);
    expect(d.objectsNew).toEqual([receiptKeyIn(out)]);
    expect((await readReceipt(receiptKeyIn(out))).receipt.counts).toMatchObject({ calls: 0, items: 0, versions: 0 });
  });

  it('refuses what is not a phone number, before touching storage', async () => {
    const r = await run(['forget', '--phone', 'not-a-number', '--yes']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--phone is not a phone number/);
  });
});

describe('hold', () => {
  it('marks the items, shows in `calls show`, makes forget refuse until released', async () => {
    const id = b.volubile.callId;
    const held = await run(['hold', 'volubile', id]);
    expect(held.code).toBe(0);
    expect(held.out).toMatch(/Held volubile .*: no S3 legal hold \(the bucket has no Object Lock\); 1 index item\(s\) marked/);
    expect(held.err).toMatch(/only `calls forget` honours this hold/);
    const before = await snap();
    const item = before.rawItems.find((i) => i.PK === `CALL#volubile#${id}`);
    expect(item?.[HOLD_ATTRIBUTE]).toMatchObject({ by: expect.stringMatching(/^local:/), objectLock: false });

    const show = await run(['show', 'volubile', id]);
    expect(show.out).toMatch(/Hold: +legal hold since .* by local:.*forget refuses it/);

    const refused = await run(['forget', 'volubile', id, '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/Refused: volubile .* is held: on hold since .*Nothing was erased/s);
    // Nor does a forget by phone that matches it (the other Volubile call has the same number).
    const byPhone = await run(['forget', '--phone', '+33612345678', '--yes']);
    expect(byPhone.code).toBe(1);
    expect(await snap()).toEqual(before);

    const released = await run(['hold', 'volubile', id, '--release']);
    expect(released.out).toMatch(/Released volubile .*1 index item\(s\) unmarked/);
    expect((await run(['show', 'volubile', id])).out).not.toMatch(/Hold:/);
    const mine = [ofCall(before, 'volubile', id), ofCall(before, 'volubile', a.volubile.callId)];
    const { code } = await run(['forget', '--phone', '+33612345678', '--yes']);
    expect(code).toBe(0);
    const d = difference(before, await snap());
    expect(d.itemsGone.sort()).toEqual(mine.flatMap((m) => m.items).sort());
    expect(d.objectsGone.sort()).toEqual(mine.flatMap((m) => m.objects).sort());
  });
});

describe('after erasure', () => {
  it('a reindex brings none of the erased calls back; the call that was never erased is still whole', async () => {
    const before = await snap();
    const { reindex } = await import('../../lib/reindex/core.ts');
    const report = await reindex({ s3, bucketName: BUCKET, tableName: TABLE, settings: { engageTimeZone: 'UTC', defaultPhoneRegion: 'US' } });
    expect(report.failed).toEqual([]);
    const after = await snap();
    expect(after.items).toEqual(before.items);
    for (const [source, id] of [['watsonx', a.watsonx.sessionId], ['synthflow', a.synthflow.callId], ['synthflow', b.synthflow.callId],
      ['engage-voice', a.engage.uii], ['engage-voice', b.engage.uii], ['volubile', a.volubile.callId], ['volubile', b.volubile.callId]] as const) {
      expect(ofCall(after, source, id)).toEqual({ objects: [], items: [] });
    }
    const kept = ofCall(after, 'watsonx', b.watsonx.sessionId);
    expect(kept.items).toHaveLength(2);
    expect(kept.objects).toHaveLength(4);
    // Receipts are kept and are not something a reindex reads.
    expect(after.objects.filter((k) => k.startsWith('receipts/')).length).toBeGreaterThanOrEqual(6);
    expect(report.scanned).toBe(2);
  });
});
