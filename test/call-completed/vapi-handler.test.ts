import { describe, it, expect, beforeEach } from 'vitest';
import { handler } from '../../functions/call-completed/handler.ts';
import { sha256Hex } from '#shared/keys';
import { getItem, getObjectBytes, headObject, listKeys } from '../support/storage.ts';
import { apiEvent, fixture, freshId, handlerTestSetup, vapiSig, type EventInput } from './support.ts';

/** POST /call-completed/vapi against the real local S3 and DynamoDB servers. */

const SECRET = 'fake-vapi-hmac-secret-for-tests';
const TOKEN = 'fake-vapi-bearer-token-for-tests';
const { configure, logs } = handlerTestSetup(['VAPI_WEBHOOK_SECRET', 'VAPI_WEBHOOK_TOKEN']);
beforeEach(() => configure({ VAPI_WEBHOOK_SECRET: SECRET }));

async function invoke(input: EventInput) {
  const res = await handler(apiEvent({ provider: 'vapi', ...input }));
  return { status: res.statusCode, body: JSON.parse(res.body ?? 'null') as Record<string, unknown> };
}

/** A fixture message for a fresh call id, serialized the way Vapi might (byte-exactness matters). */
function messageBody(name: string, id = freshId()): { id: string; body: string } {
  const f = fixture('vapi', name);
  const message = f.message as Record<string, unknown>;
  const call = message.call as Record<string, unknown>;
  return { id, body: JSON.stringify({ message: { ...message, call: { ...call, id } } }, null, 2) };
}

function signed(body: string, headers: Record<string, string> = {}): Partial<EventInput> {
  const stamp = String(Math.floor(Date.now() / 1000));
  return { body, headers: { 'x-vapi-signature': vapiSig(SECRET, body, stamp), 'x-vapi-timestamp': stamp, ...headers } };
}

const prefix = (id: string, day = '2026/11/20') => `raw/vapi/${day}/${id}/`;
const today = () => new Date().toISOString().slice(0, 10).replaceAll('-', '/');

async function expectNothingStored(id: string, day = '2026/11/20') {
  expect(await listKeys(prefix(id, day))).toEqual([]);
  expect(await getItem('vapi', id, 'CALL')).toBeUndefined();
}

describe('POST /call-completed/vapi', () => {
  it('archives an end-of-call-report byte-exact and indexes the call with its transcript and recordings', async () => {
    const { id, body } = messageBody('end-of-call-report.json');
    const res = await invoke(signed(body));
    expect(res).toMatchObject({ status: 200, body: { ok: true, outcome: 'stored', source: 'vapi', callId: id } });
    const keys = await listKeys(prefix(id));
    expect(keys).toEqual([`${prefix(id)}${sha256Hex(body)}.json`]);
    expect((await getObjectBytes(keys[0]!)).equals(Buffer.from(body))).toBe(true);
    expect((await headObject(keys[0]!)).ContentType).toBe('application/json');
    const item = await getItem('vapi', id, 'CALL');
    expect(item).toMatchObject({
      GSI1PK: 'DAY#2026-11-20',
      GSI2PK: 'PHONE#+14155550123',
      record: {
        source: 'vapi', callId: id, status: 'completed', statusDetail: 'customer-ended-call', rawS3Key: keys[0],
        customerNumber: '+14155550123', dialedNumber: '+14155550188', labels: { successEvaluation: 'true' },
        recordings: [{ id: 'mono', contentType: 'audio/wav' }, { id: 'stereo', contentType: 'audio/wav' }],
      },
    });
    expect(item?.record.transcript).toHaveLength(4);
    expect(item?.record.recordings[0].sourceUrl).toMatch(/^https:\/\/storage\.vapi\.ai\/.+-mono\.wav$/);
  });

  it('answers a second delivery of the same report as a duplicate and stores nothing new', async () => {
    const { id, body } = messageBody('end-of-call-report.json');
    expect((await invoke(signed(body))).body).toMatchObject({ outcome: 'stored' });
    expect(await invoke(signed(body))).toMatchObject({ status: 200, body: { ok: true, outcome: 'duplicate', callId: id } });
    expect(await listKeys(prefix(id))).toHaveLength(1);
  });

  it('stores a report with an endedReason it does not know, keeping it verbatim', async () => {
    const { id, body } = messageBody('end-of-call-report-unknown-reason.json');
    expect((await invoke(signed(body))).body).toMatchObject({ outcome: 'stored' });
    const item = await getItem('vapi', id, 'CALL');
    expect(item?.record).toMatchObject({ status: 'unknown', statusDetail: 'call.in-progress.some-reason-vapi-added-later', customerNumber: 'XXXXXXXX' });
    // A masked number stays out of the phone index.
    expect(item?.GSI2PK).toBeUndefined();
  });

  it('archives other server messages raw, indexes no call, and says so', async () => {
    for (const name of ['status-update.json', 'transcript.json', 'tool-calls.json']) {
      const { id, body } = messageBody(name);
      const res = await invoke(signed(body));
      expect(res, name).toMatchObject({ status: 200, body: { ok: true, outcome: 'not-a-call', indexed: false, source: 'vapi', callId: id } });
      expect(String(res.body.message)).toContain('not a call');
      const keys = await listKeys(prefix(id, today()));
      expect(keys, name).toEqual([`${prefix(id, today())}${sha256Hex(body)}.json`]);
      expect((await getObjectBytes(keys[0]!)).equals(Buffer.from(body))).toBe(true);
      expect(await getItem('vapi', id, 'CALL')).toBeUndefined();
    }
  });

  it('accepts a Bearer credential and the legacy X-Vapi-Secret header when VAPI_WEBHOOK_TOKEN is configured', async () => {
    configure({ VAPI_WEBHOOK_TOKEN: TOKEN });
    const a = messageBody('end-of-call-report.json');
    expect((await invoke({ body: a.body, headers: { authorization: `Bearer ${TOKEN}` } })).body).toMatchObject({ outcome: 'stored', callId: a.id });
    const b = messageBody('end-of-call-report.json');
    expect((await invoke({ body: b.body, headers: { 'x-vapi-secret': TOKEN } })).body).toMatchObject({ outcome: 'stored', callId: b.id });
  });

  it('refuses every failed check with a 401 and writes nothing, other message types included', async () => {
    const { id, body } = messageBody('end-of-call-report.json');
    const stamp = String(Math.floor(Date.now() / 1000));
    const stale = String(Math.floor(Date.now() / 1000) - 3600);
    const cases: [Partial<EventInput>, string][] = [
      [{ body }, 'missing_signature'],
      [{ body, headers: { 'x-vapi-signature': vapiSig('another-secret', body, stamp), 'x-vapi-timestamp': stamp } }, 'invalid_signature'],
      [{ body: body.replace('customer-ended-call', 'customer-busy'), headers: { 'x-vapi-signature': vapiSig(SECRET, body, stamp), 'x-vapi-timestamp': stamp } }, 'invalid_signature'],
      [{ body, headers: { 'x-vapi-signature': vapiSig(SECRET, body, stale), 'x-vapi-timestamp': stale } }, 'stale_timestamp'],
      [{ body, headers: { authorization: `Bearer ${SECRET}` } }, 'missing_signature'],
    ];
    for (const [input, code] of cases) {
      const res = await invoke(input);
      expect(res, code).toMatchObject({ status: 401, body: { error: code } });
      expect(typeof res.body.message).toBe('string');
    }
    await expectNothingStored(id);

    const other = messageBody('status-update.json');
    expect((await invoke({ body: other.body, headers: { 'x-vapi-signature': 'deadbeef' } })).status).toBe(401);
    expect(await listKeys(prefix(other.id, today()))).toEqual([]);
  });

  it('with nothing configured, refuses everything and says what to configure', async () => {
    configure({});
    const { id, body } = messageBody('end-of-call-report.json');
    const res = await invoke(signed(body, { authorization: `Bearer ${TOKEN}`, 'x-vapi-secret': TOKEN }));
    expect(res).toMatchObject({ status: 401, body: { error: 'auth_not_configured' } });
    expect(String(res.body.message)).toMatch(/VAPI_WEBHOOK_SECRET or VAPI_WEBHOOK_TOKEN/);
    await expectNothingStored(id);
  });

  it('answers a malformed message with a JSON 400 after authentication, and writes nothing', async () => {
    const id = freshId();
    for (const body of ['{"message":{"type":"end-of-call-report","call":{}}}', `{"message":{"type":"end-of-call-report","call":{"id":"${id}/x"}}}`, '{"call":{"id":"x"}}', '[1]']) {
      const res = await invoke(signed(body));
      expect(res.status, body).toBe(400);
      expect(res.body.error, body).toMatch(/^(invalid_payload|not_an_object)$/);
    }
    expect(await listKeys(`raw/vapi/${today()}/${id}`)).toEqual([]);
  });

  it('logs no secret, token or phone number', async () => {
    configure({ VAPI_WEBHOOK_SECRET: SECRET, VAPI_WEBHOOK_TOKEN: TOKEN });
    logs.length = 0;
    const { body } = messageBody('end-of-call-report.json');
    await invoke(signed(body, { authorization: `Bearer ${TOKEN}` }));
    await invoke(signed(body, { authorization: 'Bearer wrong-token' }));
    await invoke({ body, headers: { 'x-vapi-secret': TOKEN, 'x-vapi-signature': 'sha256=0000' } });
    const all = logs.join('\n');
    expect(logs.length).toBeGreaterThanOrEqual(3);
    for (const needle of [SECRET, TOKEN, '4155550123', '4155550188', 'wrong-token']) expect(all).not.toContain(needle);
  });
});
