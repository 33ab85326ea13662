import { describe, it, expect } from 'vitest';
import { HttpError } from '#shared/errors';
import type { InterpretContext } from '#shared/model';
import {
  interpretEngage, statusOf, directionOf, guessAudioType, segmentId, versionOf,
} from '../../functions/engage-voice/interpret.ts';
import { fixture } from './support.ts';

const ctx: InterpretContext = { engageTimeZone: 'America/New_York', defaultPhoneRegion: 'US', receivedAt: new Date('2030-01-01T00:00:00Z') };
const json = (fields: Record<string, string>) => Buffer.from(JSON.stringify(fields));
const form = (fields: Record<string, string>) => Buffer.from(new URLSearchParams(fields).toString());

describe('interpretEngage', () => {
  it('normalizes an inbound Agent Termination delivery', () => {
    const { call, sk, version } = interpretEngage(json(fixture('agent-termination')), 'application/json', ctx);
    expect(call).toMatchObject({
      source: 'engage-voice',
      callId: '202611201412050130040000123456',
      status: 'completed',
      statusDetail: 'Resolved',
      direction: 'inbound',
      customerNumber: '+16175550142',
      dialedNumber: '+18885550100',
      agent: { id: '1004217', name: 'Maria Garcia' },
      startedAt: '2026-11-20T14:12:05.483Z',
      endedAt: '2026-11-20T14:15:30.483Z',
      durationSec: 205,
      extracted: { queue_id: '88201', queue_name: 'Billing Support', agent_username: 'mgarcia@example.com', call_type: 'INBOUND' },
    });
    expect(call.recordings).toHaveLength(2);
    expect(call.recordings[0]).toMatchObject({
      sourceUrl: 'https://recordings.example.com/engage/202611201412050130040000123456-1004217.wav',
      contentType: 'audio/wav',
      startedAt: '2026-11-20T14:12:05.483Z',
    });
    expect(call.recordings[0]?.id).toMatch(/^url-[0-9a-f]{16}$/);
    expect(call.recordings[1]?.sourceUrl).toBe('https://recordings.example.com/engage/202611201412050130040000123456.wav');
    expect(sk).toMatch(/^SEG#[0-9a-f]{16}$/);
    expect(version).toBe(Date.parse('2026-11-20T14:15:30.483Z'));
  });

  it('gives the same item for JSON, form and camelCase versions of one segment, and never depends on receive time', () => {
    const a = interpretEngage(json(fixture('agent-termination')), 'application/json', ctx);
    const b = interpretEngage(form(fixture('agent-termination')), 'application/x-www-form-urlencoded', { ...ctx, receivedAt: new Date() });
    const c = interpretEngage(json(fixture('agent-termination-camel')), 'application/json; charset=utf-8', ctx);
    expect(b.sk).toBe(a.sk);
    expect(b.version).toBe(a.version);
    expect(b.call).toEqual(a.call);
    expect(c.sk).toBe(a.sk);
    expect(c.call.durationSec).toBe(205);
    expect(c.call.recordings.map((r) => r.id)).toEqual(a.call.recordings.map((r) => r.id));
  });

  it('gives segments of one uii distinct, stable ids', () => {
    const first = interpretEngage(json(fixture('agent-termination')), 'application/json', ctx);
    const second = interpretEngage(json(fixture('agent-termination-transfer')), 'application/json', ctx);
    expect(second.call.callId).toBe(first.call.callId);
    expect(second.sk).not.toBe(first.sk);
    expect(interpretEngage(json(fixture('agent-termination-transfer')), 'application/json', ctx).sk).toBe(second.sk);
    expect(second.call.agent).toEqual({ id: '1004388', name: 'David Chen' });
    expect(second.call.startedAt).toBe('2026-11-20T14:15:31.102Z');
    // Same agent and start, but a different agent-perspective recording: another segment (agent re-joined).
    expect(segmentId({ agentId: '1', callStart: 's', agentRecordingUrl: 'https://r/1.wav' }))
      .not.toBe(segmentId({ agentId: '1', callStart: 's', agentRecordingUrl: 'https://r/2.wav' }));
  });

  it('reads an outbound call: empty dnis, the customer is the ani (the number dialed)', () => {
    const { call } = interpretEngage(json(fixture('agent-termination-outbound')), 'application/json', ctx);
    expect(call.direction).toBe('outbound');
    expect(call.customerNumber).toBe('+13125550199');
    expect(call.dialedNumber).toBe('+13125550199');
    expect(call.status).toBe('no-answer');
    expect(call.durationSec).toBe(94);
    expect(call.recordings).toEqual([expect.objectContaining({ contentType: 'audio/mpeg' })]);
    expect(call.agent).toEqual({ id: '1004217', name: 'mgarcia@example.com' });
  });

  it('leaves out what arrived as unsubstituted #tags#', () => {
    const { call } = interpretEngage(json(fixture('agent-termination-tags')), 'application/json', ctx);
    expect(call.statusDetail).toBeUndefined();
    expect(call.status).toBe('completed');
    expect(call.agent).toEqual({ id: '1004217', name: 'mgarcia@example.com' });
    expect(call.recordings).toHaveLength(1);
    expect(call.extracted).toEqual({ agent_username: 'mgarcia@example.com' });
  });

  it('stores a minimal delivery (uii only) with version 0', () => {
    const { call, sk, version } = interpretEngage(form({ uii: '7' }), 'application/x-www-form-urlencoded', ctx);
    expect(call).toEqual({ source: 'engage-voice', callId: '7', status: 'completed', direction: 'outbound', recordings: [] });
    expect(sk).toMatch(/^SEG#/);
    expect(version).toBe(0);
  });

  it.each([
    [{ uii: '1', call_start: '20.11.2026 09:12' }, 'call_start'],
    [{ uii: '1', duration: 'three minutes' }, 'duration'],
    [{ uii: '1', recording_url: 'ftp://x/y.wav' }, 'recording_url'],
    [{ uii: '1', sess_agent_perspective_recording_url: 'not a url' }, 'sess_agent_perspective_recording_url'],
  ])('refuses bad values with a 400 naming the field: %j', (fields, field) => {
    let err: unknown;
    try { interpretEngage(json(fields), 'application/json', ctx); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(HttpError);
    expect(err instanceof HttpError && err.statusCode).toBe(400);
    expect(err instanceof Error && err.message).toContain(field);
  });

  it('normalizes phone numbers to E.164 with the default region and keeps other forms', () => {
    const p = (ani: string, region = 'US') =>
      interpretEngage(json({ uii: '1', ani, dnis: '8885550100' }), 'application/json', { ...ctx, defaultPhoneRegion: region }).call.customerNumber;
    expect(p('6175550142')).toBe('+16175550142');
    expect(p('16175550142')).toBe('+16175550142');
    expect(p('+442071838750')).toBe('+442071838750');
    expect(p('2071838750', 'GB')).toBe('+442071838750');
    expect(p('anonymous')).toBeUndefined();
  });
});

describe('mapping helpers', () => {
  it.each([
    [undefined, 'completed'], ['Resolved', 'completed'], ['Sale', 'completed'], ['No Answer', 'no-answer'],
    ['NO_ANSWER', 'no-answer'], ['Busy', 'busy'], ['Left Voicemail', 'voicemail'], ['Answering Machine', 'voicemail'],
    ['Abandoned', 'canceled'], ['Transferred to Billing', 'transferred'], ['Failed', 'failed'], ['Bad Number', 'failed'],
  ])('disposition %j → %s', (disposition, status) => {
    expect(statusOf(disposition)).toBe(status);
  });

  it('derives direction from call_type, else from an empty dnis', () => {
    expect(directionOf({ callType: 'INBOUND', dnis: undefined })).toBe('inbound');
    expect(directionOf({ callType: 'OUTBOUND', dnis: '8885550100' })).toBe('outbound');
    expect(directionOf({ callType: 'MANUAL', dnis: undefined })).toBe('outbound');
    expect(directionOf({ callType: undefined, dnis: '8885550100' })).toBe('inbound');
    expect(directionOf({ callType: undefined, dnis: undefined })).toBe('outbound');
  });

  it('guesses the audio type from the URL path, default audio/wav', () => {
    expect(guessAudioType('https://x/r/1.mp3?sig=abc.wav')).toBe('audio/mpeg');
    expect(guessAudioType('https://x/r/1.WAV')).toBe('audio/wav');
    expect(guessAudioType('https://x/r/1')).toBe('audio/wav');
    expect(guessAudioType('https://x/r/1.ogg')).toBe('audio/ogg');
  });

  it('versions by end time, else start time, else 0', () => {
    expect(versionOf({ startedAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-01-01T00:01:00.000Z' })).toBe(Date.parse('2026-01-01T00:01:00Z'));
    expect(versionOf({ startedAt: '2026-01-01T00:00:00.000Z' })).toBe(Date.parse('2026-01-01T00:00:00Z'));
    expect(versionOf({})).toBe(0);
  });
});
