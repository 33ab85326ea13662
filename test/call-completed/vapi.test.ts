import { describe, it, expect } from 'vitest';
import { rejection } from '../support/rejection.ts';
import { vapi, vapiStatus, readVapi, vapiTurns, TIMESTAMP_TOLERANCE_MS } from '../../functions/call-completed/providers/vapi.ts';
import { findProvider } from '../../functions/call-completed/providers/index.ts';
import { ctx, fixture, fixtureBytes, request, vapiSig } from './support.ts';

const SECRET = 'vapi-test-hmac-secret';
const TOKEN = 'vapi-test-bearer-token';
const usCtx = { ...ctx, defaultPhoneRegion: 'US' };
const report = fixtureBytes('vapi', 'end-of-call-report.json');

function read(name: string) {
  const out = readVapi(fixtureBytes('vapi', name), usCtx);
  if ('notACall' in out) throw new Error(`${name} read as a ${out.messageType} message`);
  return out;
}

describe('vapiStatus (endedReason)', () => {
  it('maps the documented outcomes by name', () => {
    const cases: [string, string][] = [
      ['customer-ended-call', 'completed'], ['assistant-ended-call', 'completed'], ['assistant-said-end-call-phrase', 'completed'],
      ['exceeded-max-duration', 'completed'], ['silence-timed-out', 'completed'],
      ['customer-busy', 'busy'], ['call.forwarding.operator-busy', 'busy'],
      ['customer-did-not-answer', 'no-answer'], ['call.forwarding.no-answer', 'no-answer'],
      ['voicemail', 'voicemail'], ['assistant-forwarded-call', 'transferred'], ['call.ending.hook-executed-transfer', 'transferred'],
      ['manually-canceled', 'canceled'], ['call-deleted', 'canceled'],
      ['Customer-Ended-Call', 'completed'],
    ];
    for (const [reason, status] of cases) expect(vapiStatus(reason), reason).toBe(status);
  });

  it('reads the error families as failed, even reasons not listed today', () => {
    for (const reason of [
      'pipeline-error-openai-llm-failed', 'call.start.error-get-assistant', 'call.in-progress.error-vapifault-deepgram-transcriber-failed',
      'twilio-failed-to-connect-call', 'vonage-disconnected', 'assistant-request-returned-error', 'pipeline-error-some-new-provider-voice-failed',
      'pipeline-error-microsoft-voice-request-canceled',
    ]) expect(vapiStatus(reason), reason).toBe('failed');
  });

  it('keeps anything else as unknown, and nothing as nothing', () => {
    expect(vapiStatus('call.in-progress.some-reason-vapi-added-later')).toBe('unknown');
    expect(vapiStatus('hangup')).toBe('unknown');
    expect(vapiStatus('')).toBeUndefined();
    expect(vapiStatus(undefined)).toBeUndefined();
    expect(vapiStatus('constructor')).toBe('unknown');
  });
});

describe('readVapi: end-of-call-report', () => {
  it('normalizes the documented report', () => {
    const { call, sk, version } = read('end-of-call-report.json');
    expect(sk).toBe('CALL');
    expect(call).toMatchObject({
      source: 'vapi',
      callId: '7c5e8a62-2f1d-4b8e-9a3c-1d2e3f4a5b6c',
      status: 'completed',
      statusDetail: 'customer-ended-call',
      direction: 'inbound',
      customerNumber: '+14155550123',
      dialedNumber: '+14155550188',
      agent: { id: '5b4a3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d', name: 'Riley (scheduling)' },
      startedAt: '2026-11-20T17:17:46.205Z',
      endedAt: '2026-11-20T17:18:31.982Z',
      durationSec: 45.777,
      summary: 'The caller moved their Thursday 3 PM appointment to Friday at 3 PM.',
      extracted: { intent: 'reschedule', newSlot: '2026-11-27T15:00:00Z', confirmed: true },
      labels: { successEvaluation: 'true' },
    });
    expect(call.transcript).toEqual([
      { speaker: 'agent', text: 'Thank you for calling Wellness Partners. This is Riley. How may I help you today?' },
      { speaker: 'customer', text: "Hi, I'd like to move my appointment on Thursday." },
      { speaker: 'agent', text: 'I see your appointment on Thursday at 3 PM. Would Friday at the same time work?' },
      { speaker: 'customer', text: 'Friday works. Thanks!' },
    ]);
    expect(call.recordings).toEqual([
      { id: 'mono', sourceUrl: 'https://storage.vapi.ai/7c5e8a62-2f1d-4b8e-9a3c-1d2e3f4a5b6c-1795637913000-mono.wav', contentType: 'audio/wav' },
      { id: 'stereo', sourceUrl: 'https://storage.vapi.ai/7c5e8a62-2f1d-4b8e-9a3c-1d2e3f4a5b6c-1795637913000-stereo.wav', contentType: 'audio/wav' },
    ]);
    // Ordered by the call's end, final rank.
    expect(version).toBe(Date.parse('2026-11-20T17:18:31.982Z') * 10 + 2);
  });

  it('reads the older report shape (top-level transcript, messages, recordingUrl; times on call)', () => {
    const { call } = read('end-of-call-report-legacy.json');
    expect(call).toMatchObject({
      callId: 'c0ffee00-1111-4222-8333-444455556666',
      status: 'no-answer',
      statusDetail: 'customer-did-not-answer',
      direction: 'outbound',
      customerNumber: '+14155550147',
      // Outbound, the number dialed is the customer's.
      dialedNumber: '+14155550147',
      startedAt: '2026-11-21T09:01:40.000Z',
      endedAt: '2026-11-21T09:02:10.000Z',
      durationSec: 30,
    });
    expect(call.transcript).toBeUndefined();
    expect(call.summary).toBeUndefined();
    expect(call.recordings).toEqual([
      { id: 'mono', sourceUrl: 'https://storage.vapi.ai/c0ffee00-1111-4222-8333-444455556666-mono.wav', contentType: 'audio/wav' },
    ]);
  });

  it('keeps an unknown endedReason verbatim, a masked number verbatim, and splits the transcript string', () => {
    const { call } = read('end-of-call-report-unknown-reason.json');
    expect(call).toMatchObject({
      status: 'unknown',
      statusDetail: 'call.in-progress.some-reason-vapi-added-later',
      customerNumber: 'XXXXXXXX',
      labels: { successEvaluation: '7' },
    });
    expect(call.direction).toBeUndefined();
    expect(call.dialedNumber).toBeUndefined();
    expect(call.transcript).toEqual([
      { speaker: 'agent', text: 'Hello, how can I help?' },
      { speaker: 'customer', text: 'Just testing the widget.' },
    ]);
    expect(call.recordings).toEqual([]);
  });

  it('only a valid number becomes E.164; junk in a number field is dropped', () => {
    const f = fixture('vapi', 'end-of-call-report.json');
    const withNumber = (number: unknown) => {
      const message = { ...(f.message as Record<string, unknown>), customer: { number } };
      const out = readVapi(Buffer.from(JSON.stringify({ message })), usCtx);
      if ('notACall' in out) throw new Error('not a call');
      return out.call.customerNumber;
    };
    expect(withNumber('+14155550123')).toBe('+14155550123');
    expect(withNumber('<script>alert(1)</script>')).toBeUndefined();
    expect(withNumber(14155550123)).toBeUndefined();
  });

  it('drops mistyped optional fields instead of losing the call (Vapi sends once)', () => {
    const f = fixture('vapi', 'end-of-call-report.json');
    const message = {
      ...(f.message as Record<string, unknown>),
      startedAt: 42, endedAt: { when: 'now' }, analysis: 'summary as a string', artifact: { messages: 'nope', recording: 5, recordingUrl: 'javascript:alert(1)' },
      customer: 'someone', assistant: [],
    };
    const out = readVapi(Buffer.from(JSON.stringify({ message })), usCtx);
    if ('notACall' in out) throw new Error('not a call');
    expect(out.call).toMatchObject({ callId: '7c5e8a62-2f1d-4b8e-9a3c-1d2e3f4a5b6c', status: 'completed', recordings: [] });
    expect(out.call.startedAt).toBeUndefined();
    expect(out.call.customerNumber).toBeUndefined();
    expect(out.call.summary).toBeUndefined();
    expect(out.call.transcript).toBeUndefined();
  });

  it('refuses what cannot be a server message, or a report with no usable call id, with a 400', () => {
    const bodies = [
      '{}', '{"message":null}', '{"message":"end-of-call-report"}', '{"message":{}}', '{"message":{"type":""}}', '{"message":{"type":5}}',
      '{"message":{"type":"end-of-call-report"}}',
      '{"message":{"type":"end-of-call-report","call":{}}}',
      '{"message":{"type":"end-of-call-report","call":{"id":"../../etc/passwd"}}}',
      '{"message":{"type":"end-of-call-report","call":{"id":"a..b"}}}',
      '{"message":{"type":"end-of-call-report","call":{"id":42}}}',
      '{"type":"end-of-call-report","call":{"id":"top-level-without-envelope"}}',
    ];
    for (const b of bodies) expect(rejection(() => readVapi(Buffer.from(b), usCtx)), b).toMatchObject({ status: 400, code: 'invalid_payload' });
    for (const b of ['[]', '', '{', '"end-of-call-report"']) expect(rejection(() => readVapi(Buffer.from(b), usCtx)).status, b).toBe(400);
  });
});

describe('readVapi: other server messages', () => {
  it('says what they are and which call they belong to, without normalizing them', () => {
    expect(readVapi(fixtureBytes('vapi', 'status-update.json'), usCtx))
      .toEqual({ notACall: true, messageType: 'status-update', callId: '7c5e8a62-2f1d-4b8e-9a3c-1d2e3f4a5b6c' });
    expect(readVapi(fixtureBytes('vapi', 'transcript.json'), usCtx)).toMatchObject({ notACall: true, messageType: 'transcript' });
    expect(readVapi(fixtureBytes('vapi', 'tool-calls.json'), usCtx)).toMatchObject({ notACall: true, messageType: 'tool-calls' });
  });

  it('leaves out a call id that is not safe as a key segment', () => {
    expect(readVapi(Buffer.from('{"message":{"type":"hang","call":{"id":"a/b"}}}'), usCtx)).toEqual({ notACall: true, messageType: 'hang' });
    expect(readVapi(Buffer.from('{"message":{"type":"hang"}}'), usCtx)).toEqual({ notACall: true, messageType: 'hang' });
  });

  it('interpret (the reindex path for one-call vendors) refuses them as not a call', () => {
    expect(rejection(() => vapi.interpret(fixtureBytes('vapi', 'status-update.json'), usCtx))).toMatchObject({ status: 400, code: 'not_a_call' });
    expect(vapi.interpret(report, usCtx).call.callId).toBe('7c5e8a62-2f1d-4b8e-9a3c-1d2e3f4a5b6c');
  });
});

describe('vapiTurns', () => {
  it('keeps user and bot turns only, and reads OpenAI-style content', () => {
    expect(vapiTurns([
      { role: 'system', message: 'prompt' }, { role: 'bot', message: ' Hi ' }, { role: 'user', message: '' },
      { role: 'tool_calls', message: 'x' }, { role: 'assistant', content: 'Hello' }, { role: 'user', content: 'Yes' }, 'junk', null,
    ])).toEqual([{ speaker: 'agent', text: 'Hi' }, { speaker: 'agent', text: 'Hello' }, { speaker: 'customer', text: 'Yes' }]);
  });
});

describe('vapi.authenticate', () => {
  const at = Date.now();
  const req = (headers: Record<string, string>, body: string | Buffer = report, query = '') =>
    request({ provider: 'vapi', body, headers, query });

  it('is the provider behind /call-completed/vapi', () => {
    expect(findProvider('vapi')).toBe(vapi);
    expect(findProvider('VAPI')).toBe(vapi);
  });

  it('refuses everything when nothing is configured, naming what to set', () => {
    const r = rejection(() => vapi.authenticate(req({ authorization: `Bearer ${TOKEN}` }), {}));
    expect(r).toMatchObject({ status: 401, code: 'auth_not_configured' });
    expect(r.message).toContain('VAPI_WEBHOOK_SECRET');
    expect(r.message).toContain('VAPI_WEBHOOK_TOKEN');
  });

  describe('Bearer credential (VAPI_WEBHOOK_TOKEN)', () => {
    const secrets = { VAPI_WEBHOOK_TOKEN: TOKEN };
    it('accepts Authorization: Bearer, a bare Authorization value, legacy X-Vapi-Secret and the URL token', () => {
      const accepted: Record<string, string>[] = [{ authorization: `Bearer ${TOKEN}` }, { authorization: `bearer  ${TOKEN}` }, { authorization: TOKEN }, { 'x-vapi-secret': TOKEN }, { 'x-webhook-token': TOKEN }];
      for (const headers of accepted) {
        expect(() => vapi.authenticate(req(headers), secrets), JSON.stringify(headers)).not.toThrow();
      }
      expect(() => vapi.authenticate(req({}, report, `token=${TOKEN}`), secrets)).not.toThrow();
    });
    it('refuses a missing, wrong, truncated or extended credential', () => {
      expect(rejection(() => vapi.authenticate(req({}), secrets))).toMatchObject({ status: 401, code: 'missing_token' });
      const refused: Record<string, string>[] = [{ authorization: 'Bearer wrong' }, { 'x-vapi-secret': TOKEN.slice(0, -1) }, { 'x-vapi-secret': `${TOKEN}x` }, { authorization: `Basic ${TOKEN}` }];
      for (const headers of refused) {
        expect(rejection(() => vapi.authenticate(req(headers), secrets)), JSON.stringify(headers)).toMatchObject({ status: 401, code: 'invalid_token' });
      }
    });
  });

  describe('HMAC credential (VAPI_WEBHOOK_SECRET)', () => {
    const secrets = { VAPI_WEBHOOK_SECRET: SECRET };
    const seconds = String(Math.floor(at / 1000));

    it('accepts the HMAC of the raw body without a timestamp, in x-vapi-signature or Vapi\'s default x-signature', () => {
      expect(() => vapi.authenticate(req({ 'x-vapi-signature': vapiSig(SECRET, report) }), secrets)).not.toThrow();
      expect(() => vapi.authenticate(req({ 'x-signature': vapiSig(SECRET, report) }), secrets)).not.toThrow();
    });

    it('accepts "<timestamp>.<body>" with a timestamp header in seconds or milliseconds', () => {
      expect(() => vapi.authenticate(req({ 'x-vapi-signature': vapiSig(SECRET, report, seconds), 'x-vapi-timestamp': seconds }), secrets)).not.toThrow();
      const ms = String(at - 1000);
      expect(() => vapi.authenticate(req({ 'x-signature': vapiSig(SECRET, report, ms), 'x-timestamp': ms }), secrets)).not.toThrow();
    });

    it('accepts the encodings, prefixes and algorithms a Vapi HMAC credential can be set to', () => {
      const variants = [
        `sha256=${vapiSig(SECRET, report)}`,
        vapiSig(SECRET, report, undefined, 'sha256', 'base64'),
        vapiSig(SECRET, report, undefined, 'sha512'),
        vapiSig(SECRET, report, undefined, 'sha1'),
        vapiSig(SECRET, report).toUpperCase(),
      ];
      for (const sig of variants) expect(() => vapi.authenticate(req({ 'x-vapi-signature': sig }), secrets), sig).not.toThrow();
    });

    it('refuses a missing, malformed or wrong signature, a tampered body and another secret', () => {
      expect(rejection(() => vapi.authenticate(req({}), secrets))).toMatchObject({ status: 401, code: 'missing_signature' });
      const tampered = Buffer.from(report.toString('utf8').replace('customer-ended-call', 'customer-busy'));
      const cases: [Record<string, string>, Buffer][] = [
        [{ 'x-vapi-signature': 'not-a-signature' }, report],
        [{ 'x-vapi-signature': vapiSig(SECRET, report).slice(0, -2) }, report],
        [{ 'x-vapi-signature': vapiSig('other-secret', report) }, report],
        [{ 'x-vapi-signature': vapiSig(SECRET, report) }, tampered],
        [{ 'x-vapi-signature': vapiSig(SECRET, report, seconds) }, report],
      ];
      for (const [headers, body] of cases) {
        expect(rejection(() => vapi.authenticate(req(headers, body), secrets)), JSON.stringify(headers)).toMatchObject({ status: 401, code: 'invalid_signature' });
      }
    });

    it('refuses a signed timestamp outside 5 minutes, or one that is not a time', () => {
      const now = Date.now();
      for (const stamp of [String(Math.floor((now - TIMESTAMP_TOLERANCE_MS - 60_000) / 1000)), String(Math.floor((now + TIMESTAMP_TOLERANCE_MS + 60_000) / 1000)), 'yesterday']) {
        const headers = { 'x-vapi-signature': vapiSig(SECRET, report, stamp), 'x-vapi-timestamp': stamp };
        expect(rejection(() => vapi.authenticate(req(headers), secrets)), stamp).toMatchObject({ status: 401, code: 'stale_timestamp' });
      }
    });

    it('a signature with a timestamp binds it: another timestamp does not verify', () => {
      const other = String(Number(seconds) - 10);
      const headers = { 'x-vapi-signature': vapiSig(SECRET, report, seconds), 'x-vapi-timestamp': other };
      expect(rejection(() => vapi.authenticate(req(headers), secrets)).code).toBe('invalid_signature');
    });
  });

  it('during a rotation accepts the previous values and says which credentials matched on them', () => {
    const rotating = { VAPI_WEBHOOK_SECRET: 'new-secret', VAPI_WEBHOOK_SECRET_PREVIOUS: SECRET, VAPI_WEBHOOK_TOKEN: 'new-token', VAPI_WEBHOOK_TOKEN_PREVIOUS: TOKEN };
    expect(vapi.authenticate(req({ 'x-vapi-signature': vapiSig(SECRET, report), 'x-vapi-secret': TOKEN }), rotating)).toEqual(['VAPI_WEBHOOK_TOKEN', 'VAPI_WEBHOOK_SECRET']);
    expect(vapi.authenticate(req({ 'x-vapi-signature': vapiSig('new-secret', report), authorization: 'Bearer new-token' }), rotating)).toEqual([]);
    expect(rejection(() => vapi.authenticate(req({ 'x-vapi-signature': vapiSig('older-secret', report), authorization: 'Bearer new-token' }), rotating)).code).toBe('invalid_signature');
  });

  it('with both configured, needs both (an HMAC credential plus an X-Vapi-Secret server header)', () => {
    const both = { VAPI_WEBHOOK_SECRET: SECRET, VAPI_WEBHOOK_TOKEN: TOKEN };
    const sig = vapiSig(SECRET, report);
    expect(() => vapi.authenticate(req({ 'x-vapi-signature': sig, 'x-vapi-secret': TOKEN }), both)).not.toThrow();
    expect(rejection(() => vapi.authenticate(req({ 'x-vapi-signature': sig }), both)).code).toBe('missing_token');
    expect(rejection(() => vapi.authenticate(req({ 'x-vapi-secret': TOKEN }), both)).code).toBe('missing_signature');
  });
});
