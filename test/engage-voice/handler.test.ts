import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import { resetConfiguration } from '#shared/handler';
import { setLogSink } from '#shared/log';
import { SECRET_NAMES } from '#shared/config';
import { handler } from '../../functions/engage-voice/handler.ts';
import { interpretEngage } from '../../functions/engage-voice/interpret.ts';
import { getItems, getObjectBytes, headObject, listKeys } from '../support/storage.ts';
import { apiEvent, basic, bodyOf, fixture, formEvent, freshUii, getEvent, jsonEvent } from './support.ts';

const TOKEN = 'tok-engage-int-6f1c2a9e';
const USER = 'ringcx';
const PASSWORD = 'pw-engage-int-93b7d';
const AUTH = { authorization: basic(USER, PASSWORD) };
const ZONE = 'America/New_York';

const logs: string[] = [];
let previousSink: ((line: string) => void) | undefined;

function configure(secrets: { ENGAGE_VOICE_TOKEN?: string; ENGAGE_VOICE_BASIC_AUTH?: string }): void {
  for (const name of SECRET_NAMES) delete process.env[name];
  delete process.env.SECRET_ARN;
  Object.assign(process.env, secrets, { ENGAGE_VOICE_TIMEZONE: ZONE, DEFAULT_PHONE_REGION: 'US' });
  resetConfiguration();
}

beforeAll(() => {
  previousSink = setLogSink((line) => { logs.push(line); });
});
afterAll(() => {
  if (previousSink) setLogSink(previousSink);
  resetConfiguration();
});
beforeEach(() => {
  configure({ ENGAGE_VOICE_TOKEN: TOKEN, ENGAGE_VOICE_BASIC_AUTH: `${USER}:${PASSWORD}` });
});

/** Everything stored for one uii: archive keys and index items. */
async function storedFor(uii: string) {
  const keys = (await listKeys('raw/engage-voice/')).filter((k) => k.includes(`/${uii}/`));
  const items = await getItems('engage-voice', uii);
  return { keys, items };
}

const ctx = { engageTimeZone: ZONE, defaultPhoneRegion: 'US', receivedAt: new Date() };

describe('POST /engage-voice, JSON body', () => {
  it('archives the body exactly as received and indexes the agent segment', async () => {
    const uii = freshUii();
    const event = jsonEvent(fixture('agent-termination', { uii }), { query: { token: TOKEN }, headers: AUTH });
    const res = await handler(event);
    expect(res.statusCode).toBe(200);
    const body = bodyOf(res);
    expect(body).toMatchObject({ ok: true, outcome: 'stored', callId: uii });
    expect(body.segment).toMatch(/^[0-9a-f]{16}$/);

    const { keys, items } = await storedFor(uii);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(new RegExp(`^raw/engage-voice/2026/11/20/${uii}/[0-9a-f]{64}\\.json$`));
    expect((await getObjectBytes(keys[0] ?? '')).toString('utf8')).toBe(event.body);
    expect((await headObject(keys[0] ?? '')).ContentType).toBe('application/json');

    expect(items).toHaveLength(1);
    const item = items[0];
    expect(item?.SK).toBe(`SEG#${body.segment}`);
    expect(item?.GSI1PK).toBe('DAY#2026-11-20');
    expect(item?.GSI2PK).toBe('PHONE#+16175550142');
    expect(item?.record).toMatchObject({
      source: 'engage-voice', callId: uii, direction: 'inbound', customerNumber: '+16175550142',
      startedAt: '2026-11-20T14:12:05.483Z', endedAt: '2026-11-20T14:15:30.483Z', durationSec: 205,
      agent: { id: '1004217', name: 'Maria Garcia' }, statusDetail: 'Resolved', rawS3Key: keys[0],
    });
  });

  it('keeps two agent segments of one uii as two items, and the archive rebuilds both', async () => {
    const uii = freshUii();
    const first = await handler(jsonEvent(fixture('agent-termination', { uii }), { query: { token: TOKEN }, headers: AUTH }));
    const second = await handler(jsonEvent(fixture('agent-termination-transfer', { uii }), { query: { token: TOKEN }, headers: AUTH }));
    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    expect(bodyOf(first).segment).not.toBe(bodyOf(second).segment);

    const { keys, items } = await storedFor(uii);
    expect(keys).toHaveLength(2);
    expect(items.map((i) => i.PK)).toEqual([`CALL#engage-voice#${uii}`, `CALL#engage-voice#${uii}`]);
    expect(items.map((i) => i.record.agent.id).sort()).toEqual(['1004217', '1004388']);

    // What a reindex does: archived bytes + stored content type → the same item.
    for (const item of items) {
      const raw = await getObjectBytes(item.record.rawS3Key);
      const contentType = (await headObject(item.record.rawS3Key)).ContentType ?? '';
      const again = interpretEngage(raw, contentType, ctx);
      expect(`${again.sk}`).toBe(item.SK);
      expect(again.version).toBe(item.version);
      const { rawS3Key: _k, receivedAt: _r, ...call } = item.record;
      expect(again.call).toEqual(call);
    }
  });

  it('answers a retried delivery 200 duplicate and stores nothing new', async () => {
    const uii = freshUii();
    const event = () => jsonEvent(fixture('agent-termination', { uii }), { query: { token: TOKEN }, headers: AUTH });
    expect(bodyOf(await handler(event())).outcome).toBe('stored');
    const before = await storedFor(uii);
    const again = await handler(event());
    expect(again.statusCode).toBe(200);
    expect(bodyOf(again)).toMatchObject({ ok: true, outcome: 'duplicate', callId: uii });
    const after = await storedFor(uii);
    expect(after.keys).toEqual(before.keys);
    expect(after.items).toHaveLength(1);
    expect(after.items[0]?.record.receivedAt).toBe(before.items[0]?.record.receivedAt);
  });
});

describe('POST /engage-voice, form body (base64, as API Gateway sends it)', () => {
  it('archives the decoded form bytes with their content type', async () => {
    const uii = freshUii();
    const fields = fixture('agent-termination-outbound', { uii });
    const event = formEvent(fields, { headers: { ...AUTH, 'x-webhook-token': TOKEN } });
    expect(event.isBase64Encoded).toBe(true);
    const res = await handler(event);
    expect(res.statusCode).toBe(200);
    const { keys, items } = await storedFor(uii);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/\.form$/);
    expect((await getObjectBytes(keys[0] ?? '')).toString('utf8')).toBe(new URLSearchParams(fields).toString());
    expect((await headObject(keys[0] ?? '')).ContentType).toBe('application/x-www-form-urlencoded');
    expect(items[0]?.record).toMatchObject({ direction: 'outbound', status: 'no-answer', customerNumber: '+13125550199', durationSec: 94 });
  });
});

describe('GET /engage-voice, query string', () => {
  it('archives the query without the token as a form body', async () => {
    const uii = freshUii();
    const fields = fixture('agent-termination', { uii });
    const event = getEvent(fields, { query: { token: TOKEN }, headers: AUTH });
    expect(event.rawQueryString).toContain(`token=${TOKEN}`);
    expect(event.queryStringParameters?.uii).toBe(uii);
    const res = await handler(event);
    expect(res.statusCode).toBe(200);
    const { keys, items } = await storedFor(uii);
    expect(keys).toHaveLength(1);
    const archived = (await getObjectBytes(keys[0] ?? '')).toString('utf8');
    expect(archived).not.toContain(TOKEN);
    expect(archived).not.toContain('token');
    expect(Object.fromEntries(new URLSearchParams(archived))).toEqual(fields);
    expect(items[0]?.record.startedAt).toBe('2026-11-20T14:12:05.483Z');
  });

  it('archives the query string byte for byte, repeated parameters and order included, minus the token', async () => {
    const uii = freshUii();
    const rawQueryString = `disposition=Sale&uii=${uii}&token=${TOKEN}&agent_id=7&call_start=2026-11-20%2009%3A12%3A05&disposition=Callback`;
    const event = { ...getEvent({}, { headers: AUTH }), rawQueryString };
    const res = await handler(event);
    expect(res.statusCode).toBe(200);
    const { keys } = await storedFor(uii);
    expect(keys).toHaveLength(1);
    expect((await getObjectBytes(keys[0] ?? '')).toString('utf8')).toBe(
      `disposition=Sale&uii=${uii}&agent_id=7&call_start=2026-11-20%2009%3A12%3A05&disposition=Callback`,
    );
  });

  it('works with only the URL token configured', async () => {
    configure({ ENGAGE_VOICE_TOKEN: TOKEN });
    const uii = freshUii();
    const res = await handler(getEvent({ uii, agent_id: '5', call_start: '2026-03-08 01:30:00' }, { query: { token: TOKEN } }));
    expect(res.statusCode).toBe(200);
    expect((await storedFor(uii)).items[0]?.record.startedAt).toBe('2026-03-08T06:30:00.000Z');
  });
});

describe('rejections store nothing', () => {
  const q = { token: TOKEN };
  const json = (extra: Record<string, string>) => ({ query: q, headers: { ...AUTH, ...extra } });
  const cases: [string, (uii: string) => ReturnType<typeof apiEvent>, number, string][] = [
    ['no token', (uii) => jsonEvent(fixture('agent-termination', { uii }), { headers: AUTH }), 401, 'missing_token'],
    ['wrong token', (uii) => jsonEvent(fixture('agent-termination', { uii }), { query: { token: 'nope' }, headers: AUTH }), 401, 'invalid_token'],
    ['no Basic credentials', (uii) => jsonEvent(fixture('agent-termination', { uii }), { query: q }), 401, 'missing_basic_auth'],
    ['wrong password', (uii) => jsonEvent(fixture('agent-termination', { uii }), { query: q, headers: { authorization: basic(USER, 'nope') } }), 401, 'invalid_basic_auth'],
    ['malformed Basic', (uii) => jsonEvent(fixture('agent-termination', { uii }), { query: q, headers: { authorization: 'Basic %%%' } }), 401, 'invalid_basic_auth'],
    ['text/plain', (uii) => apiEvent({ ...json({ 'content-type': 'text/plain' }), body: JSON.stringify(fixture('agent-termination', { uii })) }), 415, 'unsupported_media_type'],
    ['no content type', (uii) => apiEvent({ query: q, headers: AUTH, body: new URLSearchParams({ uii }).toString() }), 415, 'unsupported_media_type'],
    ['bad JSON', (uii) => apiEvent({ ...json({ 'content-type': 'application/json' }), body: `{"uii":"${uii}",` }), 400, 'invalid_json'],
    ['a JSON array', (uii) => apiEvent({ ...json({ 'content-type': 'application/json' }), body: `["${uii}"]` }), 400, 'invalid_json'],
    ['nested JSON', (uii) => apiEvent({ ...json({ 'content-type': 'application/json' }), body: `{"uii":"${uii}","x":${'['.repeat(50_000)}${']'.repeat(50_000)}}` }), 400, 'too_deep'],
    ['no uii and nothing else that identifies the call', () => jsonEvent({ uii: '#uii#', duration: '5' }, { query: q, headers: AUTH }), 400, 'invalid_payload'],
    ['a non-digit uii', (uii) => jsonEvent(fixture('agent-termination', { uii: `${uii}x` }), { query: q, headers: AUTH }), 400, 'invalid_payload'],
    ['a bad call_start', (uii) => jsonEvent(fixture('agent-termination', { uii, call_start: '2026-02-30 10:00:00' }), { query: q, headers: AUTH }), 400, 'invalid_payload'],
    ['bad form encoding', (uii) => apiEvent({ ...json({ 'content-type': 'application/x-www-form-urlencoded' }), body: Buffer.from(`uii=${uii}&x=%G1`) }), 400, 'invalid_form'],
    ['20,000 form fields', (uii) => formEvent({ uii, ...Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`f${i}`, 'x'])) }, { query: q, headers: AUTH }), 400, 'too_many_fields'],
    ['an empty GET', () => getEvent({}, { query: q, headers: AUTH }), 400, 'empty_payload'],
  ];

  it.each(cases)('%s → %i', async (_what, make, status, code) => {
    const uii = freshUii();
    const res = await handler(make(uii));
    expect(res.statusCode).toBe(status);
    expect(res.headers).not.toHaveProperty('www-authenticate');
    expect(bodyOf(res)).toMatchObject({ error: code });
    expect(bodyOf(res).message).toBeTruthy();
    const { keys, items } = await storedFor(uii);
    expect(keys).toEqual([]);
    expect(items).toEqual([]);
  });

  it('fails closed with 401 auth_not_configured when no check is configured', async () => {
    configure({});
    const uii = freshUii();
    const res = await handler(jsonEvent(fixture('agent-termination', { uii }), { query: { token: TOKEN }, headers: AUTH }));
    expect(res.statusCode).toBe(401);
    expect(bodyOf(res).error).toBe('auth_not_configured');
    expect(bodyOf(res).message).toContain('ENGAGE_VOICE_TOKEN');
    expect(bodyOf(res).message).toContain('ENGAGE_VOICE_BASIC_AUTH');
    expect(await storedFor(uii)).toEqual({ keys: [], items: [] });
  });

  it('answers another method with 405 and an Allow header', async () => {
    const res = await handler(apiEvent({ method: 'PUT', query: { token: TOKEN }, headers: AUTH }));
    expect(res.statusCode).toBe(405);
    expect(res.headers?.allow).toBe('GET, POST');
  });
});

describe('logs', () => {
  it('never contain the token, the Basic credentials or a phone number', () => {
    const all = logs.join('\n');
    expect(logs.length).toBeGreaterThan(10);
    for (const secret of [TOKEN, PASSWORD, basic(USER, PASSWORD), '6175550142', '8885550100', '3125550199']) {
      expect(all).not.toContain(secret);
    }
  });
});
