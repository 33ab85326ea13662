import { describe, it, expect } from 'vitest';
import { rejection } from '../support/rejection.ts';
import { volubile, volubileStatus } from '../../functions/call-completed/providers/volubile.ts';
import { ctx, fixture, fixtureBytes, request, volubileSig } from './support.ts';

const SECRET = 'volubile-test-secret';
const TOKEN = 'volubile-test-token';


describe('volubile.authenticate', () => {
  const body = fixtureBytes('volubile', 'call-completed.json');
  const good = volubileSig(SECRET, body);

  it('accepts the lowercase hex HMAC-SHA256 of the raw body', () => {
    expect(() => volubile.authenticate(request({ body, headers: { 'x-webhook-signature': good } }), { VOLUBILE_WEBHOOK_SECRET: SECRET })).not.toThrow();
  });

  it('refuses a missing, upper-case, truncated, wrong-secret or other-body signature', () => {
    const secrets = { VOLUBILE_WEBHOOK_SECRET: SECRET };
    const cases: [Record<string, string>, string][] = [
      [{}, 'missing_signature'],
      [{ 'x-webhook-signature': '' }, 'missing_signature'],
      [{ 'x-webhook-signature': good.toUpperCase() }, 'invalid_signature'],
      [{ 'x-webhook-signature': good.slice(0, 63) }, 'invalid_signature'],
      [{ 'x-webhook-signature': `sha256=${good}` }, 'invalid_signature'],
      [{ 'x-webhook-signature': volubileSig('other-secret', body) }, 'invalid_signature'],
      [{ 'x-webhook-signature': volubileSig(SECRET, Buffer.concat([body, Buffer.from(' ')])) }, 'invalid_signature'],
      [{ 'x-webhook-signature': Buffer.from(good, 'hex').toString('base64') }, 'invalid_signature'],
    ];
    for (const [headers, code] of cases) {
      expect(rejection(() => volubile.authenticate(request({ body, headers }), secrets)), JSON.stringify(headers)).toMatchObject({ status: 401, code });
    }
  });

  it('verifies the bytes as received, even when the event was base64-encoded', () => {
    const req = request({ body, base64: true, headers: { 'x-webhook-signature': good } });
    expect(() => volubile.authenticate(req, { VOLUBILE_WEBHOOK_SECRET: SECRET })).not.toThrow();
  });

  it('checks the URL token (query or header) when one is configured', () => {
    const secrets = { VOLUBILE_WEBHOOK_TOKEN: TOKEN };
    expect(() => volubile.authenticate(request({ body, query: `token=${TOKEN}` }), secrets)).not.toThrow();
    expect(() => volubile.authenticate(request({ body, headers: { 'x-webhook-token': TOKEN } }), secrets)).not.toThrow();
    expect(rejection(() => volubile.authenticate(request({ body }), secrets))).toMatchObject({ status: 401, code: 'missing_token' });
    expect(rejection(() => volubile.authenticate(request({ body, query: 'token=nope' }), secrets))).toMatchObject({ status: 401, code: 'invalid_token' });
  });

  it('requires every configured check: a good signature does not excuse a missing token, nor the reverse', () => {
    const secrets = { VOLUBILE_WEBHOOK_SECRET: SECRET, VOLUBILE_WEBHOOK_TOKEN: TOKEN };
    expect(() => volubile.authenticate(request({ body, query: `token=${TOKEN}`, headers: { 'x-webhook-signature': good } }), secrets)).not.toThrow();
    expect(rejection(() => volubile.authenticate(request({ body, headers: { 'x-webhook-signature': good } }), secrets)).code).toBe('missing_token');
    expect(rejection(() => volubile.authenticate(request({ body, query: `token=${TOKEN}` }), secrets)).code).toBe('missing_signature');
  });

  it('fails closed when nothing is configured, naming what to set', () => {
    const r = rejection(() => volubile.authenticate(request({ body, headers: { 'x-webhook-signature': good }, query: `token=${TOKEN}` }), {}));
    expect(r).toMatchObject({ status: 401, code: 'auth_not_configured' });
    expect(r.message).toContain('VOLUBILE_WEBHOOK_SECRET');
    expect(r.message).toContain('VOLUBILE_WEBHOOK_TOKEN');
    // Another vendor's secret does not count.
    expect(rejection(() => volubile.authenticate(request({ body }), { SYNTHFLOW_WEBHOOK_SECRET: SECRET })).code).toBe('auth_not_configured');
  });
});

describe('volubile.interpret', () => {
  it('normalizes the webhook spelling: extractorData, classifierData, nested system.phone, structured transcript', () => {
    const { call, sk, version } = volubile.interpret(fixtureBytes('volubile', 'call-completed.json'), ctx);
    expect(sk).toBe('CALL');
    expect(call).toMatchObject({
      source: 'volubile',
      callId: '3c90c3cc-0d44-4b50-8888-8dd25736052a',
      status: 'completed',
      statusDetail: 'COMPLETED',
      direction: 'inbound',
      customerNumber: '+33612345678',
      agent: { id: '7a1d2f0e-5b8c-4e11-9c3a-2f6b1e9d4c70' },
      startedAt: '2026-11-20T14:35:00.000Z',
      endedAt: '2026-11-20T14:41:00.000Z',
      durationSec: 360,
      summary: expect.stringContaining('refund'),
      extracted: { customer: { firstname: 'John', lastname: 'Doe', address: '123 Main St' }, orderNumber: '5HZ99FRT' },
      labels: { "Customer's request": 'Refund', Sentiment: 'Positive' },
      recordings: [],
    });
    expect(call.transcript?.map((t) => t.speaker)).toEqual(['agent', 'customer', 'agent']);
    expect(version).toBe(Date.parse('2026-11-20T14:41:00Z') * 10 + 2);
  });

  it('normalizes the API spelling: extractedData, classificationData, phone only in context, string transcript', () => {
    const { call } = volubile.interpret(fixtureBytes('volubile', 'call-completed-api.json'), ctx);
    expect(call).toMatchObject({
      status: 'transferred',
      statusDetail: 'TRANSFERRED',
      direction: 'outbound',
      customerNumber: '+33612345678', // "06 12 34 56 78" with the FR default region
      extracted: { appointment: { date: '2026-12-02', slot: 'morning' } },
      labels: { Outcome: 'Appointment booked' },
    });
    expect(call.transcript).toEqual([
      { speaker: 'agent', text: 'Bonjour Marie, je vous appelle pour votre rendez-vous.' },
      { speaker: 'customer', text: 'Oui, le 2 décembre\nau matin si possible.' },
      { speaker: 'agent', text: 'Je vous transfère à un conseiller.' },
    ]);
  });

  it('reads the flat "system.phone" context key', () => {
    const { call } = volubile.interpret(fixtureBytes('volubile', 'call-flat-phone.json'), ctx);
    expect(call.customerNumber).toBe('+33698765432');
    expect(call.status).toBe('voicemail');
    expect(call.extracted).toBeUndefined();
    expect(call.labels).toBeUndefined();
  });

  it('uses the default region for a national number', () => {
    const body = Buffer.from(JSON.stringify({ id: 'abc', phone: '(415) 555-0123' }));
    expect(volubile.interpret(body, { ...ctx, defaultPhoneRegion: 'US' }).call.customerNumber).toBe('+14155550123');
  });

  it('maps every documented status and keeps it verbatim; unknown statuses are kept, never rejected', () => {
    expect(Object.fromEntries(['IN_PROGRESS', 'CANCELED', 'COMPLETED', 'NO_ANSWER', 'VOICE_BOX', 'UNREACHABLE', 'FAILED', 'TRANSFERRED', 'REJECTED']
      .map((s) => [s, volubileStatus(s)]))).toEqual({
      IN_PROGRESS: 'in-progress', CANCELED: 'canceled', COMPLETED: 'completed', NO_ANSWER: 'no-answer', VOICE_BOX: 'voicemail',
      UNREACHABLE: 'failed', FAILED: 'failed', TRANSFERRED: 'transferred', REJECTED: 'busy',
    });
    const { call, version } = volubile.interpret(fixtureBytes('volubile', 'call-unknown-status.json'), ctx);
    expect(call.status).toBe('unknown');
    expect(call.statusDetail).toBe('FAILOVER');
    expect(version % 10).toBe(1);
  });

  it('orders COMPLETED after IN_PROGRESS from the payload alone, independent of receive time', () => {
    const inProgress = volubile.interpret(fixtureBytes('volubile', 'call-in-progress.json'), ctx);
    const completed = volubile.interpret(fixtureBytes('volubile', 'call-completed.json'), { ...ctx, receivedAt: new Date(0) });
    expect(inProgress.call.status).toBe('in-progress');
    expect(completed.version).toBeGreaterThan(inProgress.version);
    // Same event time: the final status still wins.
    const same = (status: string) => volubile.interpret(Buffer.from(JSON.stringify({ id: 'x1', status, startTime: '2026-11-20T14:35:00Z' })), ctx).version;
    expect(same('COMPLETED')).toBeGreaterThan(same('IN_PROGRESS'));
    // Receive time never enters the version.
    const a = volubile.interpret(fixtureBytes('volubile', 'call-completed.json'), { ...ctx, receivedAt: new Date('2031-05-05T00:00:00Z') });
    expect(a.version).toBe(completed.version);
  });

  it('answers 400 for a missing or unsafe id and for wrongly typed known fields', () => {
    const bad = (o: unknown) => rejection(() => volubile.interpret(Buffer.from(JSON.stringify(o)), ctx));
    expect(bad({ status: 'COMPLETED' })).toMatchObject({ status: 400, code: 'invalid_payload' });
    expect(bad({ id: '../../etc/passwd' })).toMatchObject({ status: 400, code: 'invalid_payload' });
    expect(bad({ id: 'a/b' }).message).toContain('id');
    expect(bad({ id: '' })).toMatchObject({ status: 400 });
    expect(bad({ id: 'x'.repeat(129) })).toMatchObject({ status: 400 });
    expect(bad({ id: 12345 })).toMatchObject({ status: 400 });
    expect(bad({ id: 'ok', status: 7 }).message).toContain('status');
    expect(bad({ id: 'ok', extractorData: ['not', 'a', 'map'] })).toMatchObject({ status: 400 });
  });

  it('tolerates extra fields, nulls and unreadable times (kept in the raw archive)', () => {
    const { call, version } = volubile.interpret(Buffer.from(
      '{"id":"a.b:c_d-1","status":null,"phone":null,"startTime":"soon","newField":{"x":1},"extractorData":{"big":12345678901234567890}}',
    ), ctx);
    expect(call).toMatchObject({ callId: 'a.b:c_d-1', extracted: { big: '12345678901234567890' } });
    expect(call.startedAt).toBeUndefined();
    expect(call.status).toBeUndefined();
    expect(version).toBe(1);
  });

  it('is pure: the same bytes give the same interpretation', () => {
    const body = fixtureBytes('volubile', 'call-completed.json');
    expect(volubile.interpret(body, ctx)).toEqual(volubile.interpret(Buffer.from(body), ctx));
    expect(fixture('volubile', 'call-completed.json').id).toBe('3c90c3cc-0d44-4b50-8888-8dd25736052a');
  });
});
