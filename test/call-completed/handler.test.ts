import { describe, it, expect, beforeEach } from 'vitest';
import { handler } from '../../functions/call-completed/handler.ts';
import { resetConfiguration } from '#shared/handler';
import { sha256Hex } from '#shared/keys';
import { getItem, getObjectBytes, headObject, listKeys } from '../support/storage.ts';
import { apiEvent, fixture, freshId, handlerTestSetup, synthflowSig, volubileSig, type EventInput } from './support.ts';

const V_SECRET = 'fake-volubile-secret-for-tests';
const S_SECRET = 'fake-synthflow-secret-for-tests';
const S_TOKEN = 'fake-synthflow-token-for-tests';
// DEFAULT_PHONE_REGION too: one test sets it.
const { configure, logs } = handlerTestSetup(['VOLUBILE_WEBHOOK_SECRET', 'VOLUBILE_WEBHOOK_TOKEN', 'SYNTHFLOW_WEBHOOK_SECRET', 'SYNTHFLOW_WEBHOOK_TOKEN', 'DEFAULT_PHONE_REGION']);

beforeEach(() => {
  configure({ VOLUBILE_WEBHOOK_SECRET: V_SECRET, SYNTHFLOW_WEBHOOK_SECRET: S_SECRET, SYNTHFLOW_WEBHOOK_TOKEN: S_TOKEN });
});

async function invoke(input: EventInput) {
  const res = await handler(apiEvent(input));
  const body: unknown = JSON.parse(res.body ?? 'null');
  return { status: res.statusCode, body, headers: res.headers ?? {} };
}

/** A Volubile body for a fresh call id, pretty-printed the way a vendor might (byte-exactness matters). */
function volubileBody(name = 'call-completed.json', id = freshId()): { id: string; body: string } {
  return { id, body: JSON.stringify({ ...fixture('volubile', name), id }, null, 2) + '\n' };
}

function sendVolubile(body: string | Buffer, extra: Partial<EventInput> = {}) {
  return invoke({ provider: 'volubile', body, ...extra, headers: { 'x-webhook-signature': volubileSig(V_SECRET, body), ...extra.headers } });
}

function synthflowBody(name = 'call-completed.json', id = `${Date.now()}x${freshId().replaceAll('-', '')}`): { id: string; body: string } {
  const f = fixture('synthflow', name);
  const call = typeof f.call === 'object' && f.call !== null ? f.call : {};
  return { id, body: JSON.stringify({ ...f, call: { ...call, call_id: id } }) };
}

function sendSynthflow(id: string, body: string | Buffer, extra: Partial<EventInput> = {}) {
  return invoke({ provider: 'synthflow', body, query: `token=${S_TOKEN}`, ...extra, headers: { 'synthflow-signature': synthflowSig(S_SECRET, id), ...extra.headers } });
}

const vPrefix = (id: string, day = '2026/11/20') => `raw/volubile/${day}/${id}/`;
const sPrefix = (id: string, day = '2026/11/20') => `raw/synthflow/${day}/${id}/`;

async function expectNothingStored(source: 'volubile' | 'synthflow', id: string, day = '2026/11/20') {
  expect(await listKeys(`raw/${source}/${day}/${id}/`)).toEqual([]);
  expect(await getItem(source, id, 'CALL')).toBeUndefined();
}

describe('POST /call-completed/volubile', () => {
  it('archives with the content type the sender gave, and JSON when it gave none', async () => {
    const vendorType = volubileBody();
    expect((await sendVolubile(vendorType.body, { headers: { 'content-type': 'application/vnd.volubile+json; charset=utf-8' } })).status).toBe(200);
    const [typedKey] = await listKeys(vPrefix(vendorType.id));
    expect((await headObject(typedKey!)).ContentType).toBe('application/vnd.volubile+json; charset=utf-8');

    const untyped = volubileBody();
    const noType = apiEvent({ provider: 'volubile', body: untyped.body, headers: { 'x-webhook-signature': volubileSig(V_SECRET, untyped.body) } });
    delete noType.headers['content-type'];
    expect((await handler(noType)).statusCode).toBe(200);
    const [untypedKey] = await listKeys(vPrefix(untyped.id));
    expect((await headObject(untypedKey!)).ContentType).toBe('application/json');
  });

  it('archives the body byte-exact and indexes the normalized call', async () => {
    const { id, body } = volubileBody();
    const res = await sendVolubile(body);
    expect(res).toMatchObject({ status: 200, body: { ok: true, outcome: 'stored', source: 'volubile', callId: id } });
    const keys = await listKeys(vPrefix(id));
    expect(keys).toEqual([`${vPrefix(id)}${sha256Hex(body)}.json`]);
    expect((await getObjectBytes(keys[0]!)).equals(Buffer.from(body))).toBe(true);
    expect((await headObject(keys[0]!)).ContentType).toBe('application/json');
    const item = await getItem('volubile', id, 'CALL');
    expect(item).toMatchObject({
      GSI1PK: 'DAY#2026-11-20',
      GSI2PK: 'PHONE#+33612345678',
      version: Date.parse('2026-11-20T14:41:00Z') * 10 + 2,
      record: {
        source: 'volubile', callId: id, status: 'completed', statusDetail: 'COMPLETED', customerNumber: '+33612345678',
        startedAt: '2026-11-20T14:35:00.000Z', durationSec: 360, rawS3Key: keys[0],
        extracted: { orderNumber: '5HZ99FRT' }, labels: { Sentiment: 'Positive' },
      },
    });
    expect(item?.record.transcript).toHaveLength(3);
  });

  it('accepts a base64-encoded event and verifies the decoded bytes; national numbers use DEFAULT_PHONE_REGION', async () => {
    process.env.DEFAULT_PHONE_REGION = 'FR';
    resetConfiguration();
    const { id, body } = volubileBody('call-completed-api.json');
    const res = await invoke({ provider: 'volubile', body: Buffer.from(body), base64: true, headers: { 'x-webhook-signature': volubileSig(V_SECRET, body) } });
    expect(res).toMatchObject({ status: 200, body: { outcome: 'stored', callId: id } });
    const [key] = await listKeys(vPrefix(id, '2026/11/21'));
    expect((await getObjectBytes(key!)).toString('utf8')).toBe(body);
    expect((await getItem('volubile', id, 'CALL'))?.record.customerNumber).toBe('+33612345678');
  });

  it('answers a retried delivery as a duplicate and stores no new object', async () => {
    const { id, body } = volubileBody();
    expect((await sendVolubile(body)).body).toMatchObject({ outcome: 'stored' });
    const again = await sendVolubile(body);
    expect(again).toMatchObject({ status: 200, body: { ok: true, outcome: 'duplicate', callId: id } });
    expect(await listKeys(vPrefix(id))).toHaveLength(1);
  });

  it('never lets an older IN_PROGRESS update overwrite a COMPLETED call', async () => {
    const id = freshId();
    const completed = volubileBody('call-completed.json', id).body;
    const inProgress = volubileBody('call-in-progress.json', id).body;
    expect((await sendVolubile(completed)).body).toMatchObject({ outcome: 'stored' });
    expect(await sendVolubile(inProgress)).toMatchObject({ status: 200, body: { outcome: 'stale' } });
    const item = await getItem('volubile', id, 'CALL');
    expect(item?.record.status).toBe('completed');
    expect(item?.record.rawS3Key).toBe(`${vPrefix(id)}${sha256Hex(completed)}.json`);
    // The other order: the final status replaces the in-progress one.
    const id2 = freshId();
    expect((await sendVolubile(volubileBody('call-in-progress.json', id2).body)).body).toMatchObject({ outcome: 'stored' });
    expect((await sendVolubile(volubileBody('call-completed.json', id2).body)).body).toMatchObject({ outcome: 'stored' });
    expect((await getItem('volubile', id2, 'CALL'))?.record.status).toBe('completed');
  });

  it('refuses a bad, missing or upper-case signature with 401 and stores nothing', async () => {
    const { id, body } = volubileBody();
    for (const sig of ['', volubileSig(V_SECRET, body).toUpperCase(), volubileSig('wrong', body), volubileSig(V_SECRET, body + ' ')]) {
      const res = await invoke({ provider: 'volubile', body, headers: sig ? { 'x-webhook-signature': sig } : {} });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: expect.stringMatching(/signature/) });
    }
    await expectNothingStored('volubile', id);
  });

  it('needs the URL token too when one is configured', async () => {
    configure({ VOLUBILE_WEBHOOK_SECRET: V_SECRET, VOLUBILE_WEBHOOK_TOKEN: 'fake-volubile-token' });
    const { id, body } = volubileBody();
    expect(await sendVolubile(body)).toMatchObject({ status: 401, body: { error: 'missing_token' } });
    await expectNothingStored('volubile', id);
    expect(await sendVolubile(body, { query: 'token=fake-volubile-token' })).toMatchObject({ status: 200, body: { outcome: 'stored' } });
  });

  it('fails closed when no Volubile check is configured', async () => {
    configure({ SYNTHFLOW_WEBHOOK_TOKEN: S_TOKEN });
    const { id, body } = volubileBody();
    const res = await sendVolubile(body);
    expect(res).toMatchObject({ status: 401, body: { error: 'auth_not_configured', message: expect.stringContaining('VOLUBILE_WEBHOOK_SECRET') } });
    await expectNothingStored('volubile', id);
  });

  it('answers 400 for correctly signed bodies that are malformed, and stores nothing', async () => {
    const id = freshId();
    const bodies: [string | Buffer, string][] = [
      ['{"id":', 'invalid_json'],
      ['', 'invalid_json'],
      ['["not","an","object"]', 'not_an_object'],
      [`{"id":"${id}","x":${'['.repeat(5000)}${']'.repeat(5000)}}`, 'too_deep'],
      [Buffer.concat([Buffer.from(`{"id":"${id}","startTime":"2026-11-20T14:35:00Z","summary":"`), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]), 'invalid_utf8'],
      [JSON.stringify({ id: `../${id}`, startTime: '2026-11-20T14:35:00Z' }), 'invalid_payload'],
      [JSON.stringify({ startTime: '2026-11-20T14:35:00Z' }), 'invalid_payload'],
    ];
    for (const [body, code] of bodies) {
      const res = await invoke({ provider: 'volubile', body, base64: Buffer.isBuffer(body), headers: { 'x-webhook-signature': volubileSig(V_SECRET, body) } });
      expect(res, code).toMatchObject({ status: 400, body: { error: code } });
    }
    await expectNothingStored('volubile', id);
  });

  it('answers 415 for a non-JSON content type and stores nothing; accepts +json and a missing content type', async () => {
    const { id, body } = volubileBody();
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', '???']) {
      const res = await sendVolubile(body, { headers: { 'content-type': type } });
      expect(res, type).toMatchObject({ status: 415, body: { error: 'unsupported_media_type' } });
    }
    await expectNothingStored('volubile', id);
    expect((await sendVolubile(body, { headers: { 'content-type': 'application/vnd.volubile+json; charset=UTF-8' } })).status).toBe(200);
    const other = volubileBody();
    const noType = apiEvent({ provider: 'volubile', body: other.body, headers: { 'x-webhook-signature': volubileSig(V_SECRET, other.body) } });
    delete noType.headers['content-type'];
    expect((await handler(noType)).statusCode).toBe(200);
  });

  it('finds the provider from the path when the route has no parameters', async () => {
    const { id, body } = volubileBody();
    const res = await invoke({ provider: 'volubile', noPathParameters: true, body, headers: { 'x-webhook-signature': volubileSig(V_SECRET, body) } });
    expect(res).toMatchObject({ status: 200, body: { source: 'volubile', callId: id } });
  });
});

describe('POST /call-completed/synthflow', () => {
  it('stores a signed call with its token: byte-exact archive, transcript turns, recording link', async () => {
    const { id, body } = synthflowBody();
    const res = await sendSynthflow(id, body);
    expect(res).toMatchObject({ status: 200, body: { ok: true, outcome: 'stored', source: 'synthflow', callId: id } });
    const keys = await listKeys(sPrefix(id));
    expect(keys).toEqual([`${sPrefix(id)}${sha256Hex(body)}.json`]);
    expect((await getObjectBytes(keys[0]!)).toString('utf8')).toBe(body);
    const item = await getItem('synthflow', id, 'CALL');
    expect(item?.record).toMatchObject({
      source: 'synthflow', callId: id, status: 'completed', statusDetail: 'agent_goodbye',
      startedAt: '2026-11-20T17:17:46.205Z', endedAt: '2026-11-20T17:18:18.205Z',
      recordings: [{ sourceUrl: expect.stringMatching(/^https:/), contentType: 'audio/wav' }],
      extracted: { extract_info_1: { purchase: 'car' } },
    });
    expect(item?.record.transcript.map((t: { speaker: string }) => t.speaker)).toEqual(['agent', 'customer', 'agent', 'customer']);
    expect(await sendSynthflow(id, body)).toMatchObject({ status: 200, body: { outcome: 'duplicate' } });
    expect(await listKeys(sPrefix(id))).toHaveLength(1);
  });

  it('keeps a masked number verbatim and out of the phone index; epoch-ms start time sets the day', async () => {
    const { id, body } = synthflowBody('call-epoch-ms.json');
    expect((await sendSynthflow(id, body, { base64: true })).status).toBe(200);
    const item = await getItem('synthflow', id, 'CALL');
    expect(item).toMatchObject({ GSI1PK: 'DAY#2026-11-26', record: { customerNumber: 'XXXXXXXX', statusDetail: 'caller_sang_a_song' } });
    expect(item?.GSI2PK).toBeUndefined();
  });

  it('refuses a missing token, a wrong signature or a signature for another call; stores nothing', async () => {
    const { id, body } = synthflowBody();
    expect(await sendSynthflow(id, body, { query: '' })).toMatchObject({ status: 401, body: { error: 'missing_token' } });
    expect(await sendSynthflow(id, body, { headers: { 'synthflow-signature': synthflowSig('nope', id) } })).toMatchObject({ status: 401, body: { error: 'invalid_signature' } });
    expect(await sendSynthflow('other-call', body)).toMatchObject({ status: 401, body: { error: 'invalid_signature' } });
    expect(await invoke({ provider: 'synthflow', body, query: `token=${S_TOKEN}` })).toMatchObject({ status: 401, body: { error: 'missing_signature' } });
    await expectNothingStored('synthflow', id);
  });

  it('answers 400 for an unsafe call_id even when correctly signed', async () => {
    const id = 'bad/../id';
    const body = JSON.stringify({ call: { call_id: id, start_time: '2026-11-20T10:00:00Z' } });
    expect(await sendSynthflow(id, body)).toMatchObject({ status: 400, body: { error: 'invalid_payload', message: expect.stringContaining('call.call_id') } });
  });
});

describe('routing', () => {
  it('answers 404 naming the known providers for an unknown one', async () => {
    const res = await invoke({ provider: 'retell', body: '{}' });
    expect(res).toMatchObject({ status: 404, body: { error: 'unknown_provider' } });
    expect(JSON.stringify(res.body)).toContain('volubile');
    expect(JSON.stringify(res.body)).toContain('synthflow');
    expect(JSON.stringify(res.body)).toContain('/call-completed/vapi');
    expect((await invoke({ provider: 'x', path: '/call-completed', noPathParameters: true, body: '{}' })).status).toBe(404);
  });

  it('answers 405 with Allow for a wrong method', async () => {
    const res = await invoke({ provider: 'volubile', method: 'GET' });
    expect(res).toMatchObject({ status: 405, body: { error: 'method_not_allowed' } });
    expect(res.headers.allow).toBe('POST');
  });

  it('never logs secrets, signatures, tokens or phone numbers', async () => {
    const { body } = volubileBody();
    await sendVolubile(body);
    const s = synthflowBody();
    await sendSynthflow(s.id, s.body);
    const text = logs.join('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of [V_SECRET, S_SECRET, S_TOKEN, volubileSig(V_SECRET, body), synthflowSig(S_SECRET, s.id), '33612345678', '4155550123']) {
      expect(text).not.toContain(secret);
    }
  });
});
