import { describe, it, expect } from 'vitest';
import { rejection } from '../support/rejection.ts';
import { synthflow, synthflowStatus, recordingFromUrl } from '../../functions/call-completed/providers/synthflow.ts';
import { ctx, fixture, fixtureBytes, request, synthflowSig } from './support.ts';

const SECRET = 'synthflow-test-secret';
const TOKEN = 'synthflow-test-token';
const CALL_ID = '1711646262471x768387119913843100';


const usCtx = { ...ctx, defaultPhoneRegion: 'US' };

describe('synthflow.authenticate', () => {
  const body = fixtureBytes('synthflow', 'call-completed.json');
  const sig = synthflowSig(SECRET, CALL_ID);
  const both = { SYNTHFLOW_WEBHOOK_SECRET: SECRET, SYNTHFLOW_WEBHOOK_TOKEN: TOKEN };

  it('accepts the base64 HMAC-SHA256 of call.call_id under each documented header name', () => {
    for (const name of ['synthflow-signature', 'x-synthflow-signature', 'http_synthflow_signature']) {
      expect(() => synthflow.authenticate(request({ provider: 'synthflow', body, query: `token=${TOKEN}`, headers: { [name]: sig } }), both), name).not.toThrow();
    }
  });

  it('reads the header case-insensitively (the request decoder lower-cases names)', () => {
    const req = request({ provider: 'synthflow', body, query: `token=${TOKEN}`, headers: { 'HTTP_SYNTHFLOW_SIGNATURE': sig } });
    expect(() => synthflow.authenticate(req, both)).not.toThrow();
  });

  it('refuses a missing signature, another secret, another call id, hex encoding', () => {
    const cases: [Record<string, string>, string][] = [
      [{}, 'missing_signature'],
      [{ 'synthflow-signature': synthflowSig('other', CALL_ID) }, 'invalid_signature'],
      [{ 'synthflow-signature': synthflowSig(SECRET, 'another-call') }, 'invalid_signature'],
      [{ 'synthflow-signature': Buffer.from(sig, 'base64').toString('hex') }, 'invalid_signature'],
      [{ 'synthflow-signature': sig.slice(0, -2) }, 'invalid_signature'],
    ];
    for (const [headers, code] of cases) {
      expect(rejection(() => synthflow.authenticate(request({ provider: 'synthflow', body, query: `token=${TOKEN}`, headers }), both)), JSON.stringify(headers))
        .toMatchObject({ status: 401, code });
    }
  });

  it('refuses a signed body whose call_id was swapped for another', () => {
    const swapped = Buffer.from(JSON.stringify({ ...fixture('synthflow', 'call-completed.json'), call: { call_id: 'someone-else' } }));
    expect(rejection(() => synthflow.authenticate(request({ provider: 'synthflow', body: swapped, query: `token=${TOKEN}`, headers: { 'synthflow-signature': sig } }), both)).code)
      .toBe('invalid_signature');
  });

  it('checks the token before reading the body, and needs both when both are configured', () => {
    expect(rejection(() => synthflow.authenticate(request({ provider: 'synthflow', body: 'not json', headers: { 'synthflow-signature': sig } }), both)).code).toBe('missing_token');
    expect(rejection(() => synthflow.authenticate(request({ provider: 'synthflow', body, query: 'token=wrong', headers: { 'synthflow-signature': sig } }), both)).code).toBe('invalid_token');
    expect(rejection(() => synthflow.authenticate(request({ provider: 'synthflow', body, headers: { 'x-webhook-token': TOKEN } }), both)).code).toBe('missing_signature');
  });

  it('with a secret configured, a body without a readable call_id is a 400 (it cannot be verified)', () => {
    for (const b of ['{"call":{}}', '{"call":{"call_id":5}}', '[]', '{']) {
      expect(rejection(() => synthflow.authenticate(request({ provider: 'synthflow', body: b, query: `token=${TOKEN}`, headers: { 'synthflow-signature': sig } }), both)).status, b).toBe(400);
    }
  });

  it('a secret alone is not enough: the signature covers only call_id, so the URL token is always required', () => {
    const r = rejection(() => synthflow.authenticate(request({ provider: 'synthflow', body, headers: { 'synthflow-signature': sig } }), { SYNTHFLOW_WEBHOOK_SECRET: SECRET }));
    expect(r).toMatchObject({ status: 401, code: 'auth_not_configured' });
    expect(r.message).toContain('SYNTHFLOW_WEBHOOK_TOKEN');
    expect(r.message).toContain('call_id');
  });

  it('token alone suffices when no secret is configured', () => {
    expect(() => synthflow.authenticate(request({ provider: 'synthflow', body, query: `token=${TOKEN}` }), { SYNTHFLOW_WEBHOOK_TOKEN: TOKEN })).not.toThrow();
  });

  it('fails closed when nothing is configured', () => {
    const r = rejection(() => synthflow.authenticate(request({ provider: 'synthflow', body, query: `token=${TOKEN}`, headers: { 'synthflow-signature': sig } }), { VOLUBILE_WEBHOOK_TOKEN: TOKEN }));
    expect(r).toMatchObject({ status: 401, code: 'auth_not_configured' });
    expect(r.message).toContain('SYNTHFLOW_WEBHOOK_SECRET');
  });
});

describe('synthflow.interpret', () => {
  it('normalizes the documented post-call payload', () => {
    const { call, sk, version } = synthflow.interpret(fixtureBytes('synthflow', 'call-completed.json'), usCtx);
    expect(sk).toBe('CALL');
    expect(call).toMatchObject({
      source: 'synthflow',
      callId: CALL_ID,
      status: 'completed',
      statusDetail: 'agent_goodbye',
      customerNumber: '+14155550123',
      agent: { id: '1711241656808x745681686585854500' },
      startedAt: '2026-11-20T17:17:46.205Z',
      endedAt: '2026-11-20T17:18:18.205Z',
      durationSec: 32,
      extracted: { extract_info_1: { purchase: 'car' }, extract_info_2: { intent: 'sell' } },
      labels: { persona: 'true', persona_feedback: '', call_outcome: 'partial', goal_reached: 'false' },
    });
    expect(call.transcript).toEqual([
      { speaker: 'agent', text: expect.stringContaining('Majestic Estates') },
      { speaker: 'customer', text: 'Yes. I want to buy a car.' },
      { speaker: 'agent', text: "Oh, that's exciting! But let's focus on your property for now.\nAre you planning to sell it or rent it out?" },
      { speaker: 'customer', text: 'Sell it.' },
    ]);
    expect(call.recordings).toEqual([{
      id: expect.stringMatching(/^url-[0-9a-f]{24}$/),
      sourceUrl: 'https://recordings.synthflow.example/calls/1711646262471x768387119913843100.wav',
      contentType: 'audio/wav',
    }]);
    expect(version).toBe(Date.parse('2026-11-20T17:18:18.205Z') * 10 + 2);
  });

  it('reads epoch-ms start times, keeps masked numbers verbatim and unknown end reasons', () => {
    const { call } = synthflow.interpret(fixtureBytes('synthflow', 'call-epoch-ms.json'), usCtx);
    expect(call).toMatchObject({
      callId: '1711700000000x123456789012345600',
      startedAt: '2026-11-26T14:37:46.205Z',
      endedAt: '2026-11-26T14:37:58.205Z',
      customerNumber: 'XXXXXXXX',
      status: 'voicemail',
      statusDetail: 'caller_sang_a_song',
      recordings: [],
    });
    expect(call.transcript).toBeUndefined();
    expect(call.extracted).toBeUndefined();
  });

  it('maps statuses, keeps unknown ones as unknown', () => {
    expect(['completed', 'failed', 'busy', 'no-answer', 'no_answer', 'hangup_on_voicemail', 'left_voicemail', 'cancelled', 'transferred', 'in-progress', 'queue', 'teleported', '']
      .map(synthflowStatus)).toEqual(['completed', 'failed', 'busy', 'no-answer', 'no-answer', 'voicemail', 'voicemail', 'canceled', 'transferred', 'in-progress', 'in-progress', 'unknown', undefined]);
  });

  it('falls back to the status when there is no end reason', () => {
    const body = Buffer.from(JSON.stringify({ status: 'failed', call: { call_id: 'c-1', status: 'busy' } }));
    expect(synthflow.interpret(body, usCtx).call).toMatchObject({ status: 'busy', statusDetail: 'busy' });
  });

  it('derives a stable recording id from the URL and guesses the type from its extension', () => {
    const a = recordingFromUrl('https://x.example/r/1.mp3?sig=abc');
    expect(a).toMatchObject({ contentType: 'audio/mpeg' });
    expect(recordingFromUrl('https://x.example/r/1.mp3?sig=abc')?.id).toBe(a?.id);
    expect(recordingFromUrl('https://x.example/r/2.mp3')?.id).not.toBe(a?.id);
    expect(recordingFromUrl('https://x.example/r/file.ogg')?.contentType).toBe('audio/ogg');
    expect(recordingFromUrl('https://x.example/r/noext')?.contentType).toBe('audio/mpeg');
    expect(recordingFromUrl('https://x.example/r/x.toString')?.contentType).toBe('audio/mpeg');
    expect(recordingFromUrl('javascript:alert(1)')).toBeUndefined();
    expect(recordingFromUrl('not a url')).toBeUndefined();
    expect(recordingFromUrl('')).toBeUndefined();
  });

  it('answers 400 for a missing call, a missing or unsafe call_id, and wrongly typed fields', () => {
    const bad = (o: unknown) => rejection(() => synthflow.interpret(Buffer.from(JSON.stringify(o)), usCtx));
    expect(bad({ status: 'completed' })).toMatchObject({ status: 400, code: 'invalid_payload' });
    expect(bad({ call: {} }).message).toContain('call.call_id');
    expect(bad({ call: { call_id: 'a b' } })).toMatchObject({ status: 400 });
    expect(bad({ call: { call_id: '.hidden' } })).toMatchObject({ status: 400 });
    expect(bad({ call: { call_id: 'ok', transcript: ['x'] } }).message).toContain('call.transcript');
    expect(bad({ call: { call_id: 'ok' }, executed_actions: [] })).toMatchObject({ status: 400 });
  });

  it('tolerates nulls and extra fields; start time order independent of receive time', () => {
    const body = Buffer.from(JSON.stringify({ status: null, lead: null, call: { call_id: 'c-2', start_time: '2026-11-20T10:00:00+00:00', duration: '60', extra: [1] }, executed_actions: { a: { return_value: null }, b: 'junk' } }));
    const one = synthflow.interpret(body, usCtx);
    const two = synthflow.interpret(body, { ...usCtx, receivedAt: new Date() });
    expect(one).toEqual(two);
    expect(one.call).toMatchObject({ callId: 'c-2', durationSec: 60, endedAt: '2026-11-20T10:01:00.000Z' });
    expect(one.call.extracted).toBeUndefined();
  });
});
