import { describe, it, expect } from 'vitest';
import type { CallRecord } from '#shared/model';
import { mergeItems, groupItems, parseItem, type CallItem } from '../../lib/calls/model.ts';
import { duration, clean, table } from '../../lib/calls/format.ts';
import { asWav, isWav } from '../../lib/calls/wav.ts';
import { MULAW_HEADER_BYTES, wrapMulaw } from '../../functions/audio-webhook/wav.ts';

/** Pure parts of the read side: item validation, merging, formatting, WAV wrapping. */

const base: CallRecord = { source: 'engage-voice', callId: '1'.repeat(30), recordings: [], rawS3Key: 'raw/a', receivedAt: '2026-11-20T10:00:00.000Z' };
const item = (sk: string, r: Partial<CallRecord>): CallItem => ({ sk, version: 1, record: { ...base, ...r } });

describe('mergeItems', () => {
  it('merges agent segments in call order: span, last status and agent, first number, concatenated turns', () => {
    const g = mergeItems([
      item('SEG#b', { startedAt: '2026-11-20T09:15:00.000Z', durationSec: 60, status: 'completed', agent: { id: '2' }, transcript: [{ speaker: 'agent', text: 'second' }], receivedAt: '2026-11-20T10:05:00.000Z', rawS3Key: 'raw/b', extracted: { q: 'B' } }),
      item('SEG#a', { startedAt: '2026-11-20T09:12:00.000Z', durationSec: 120, status: 'transferred', agent: { id: '1' }, customerNumber: '+16175550142', transcript: [{ speaker: 'customer', text: 'first' }], extracted: { q: 'A', only: 1 } }),
    ]);
    expect(g.items.map((i) => i.sk)).toEqual(['SEG#a', 'SEG#b']);
    expect(g.call).toMatchObject({
      status: 'completed', agent: { id: '2' }, customerNumber: '+16175550142',
      startedAt: '2026-11-20T09:12:00.000Z', endedAt: '2026-11-20T09:16:00.000Z', durationSec: 240,
      transcript: [{ text: 'first' }, { text: 'second' }], extracted: { q: 'B', only: 1 },
      receivedAt: '2026-11-20T10:05:00.000Z', rawS3Key: 'raw/b',
    });
  });

  it('keeps a single item as it is', () => {
    const one = item('CALL', { source: 'volubile', durationSec: 42, startedAt: '2026-11-20T09:00:00.000Z' });
    expect(mergeItems([one]).call).toEqual(one.record);
  });

  it('keeps a recording repeated on several items once', () => {
    const link = { id: 'url-1', sourceUrl: 'https://r.example/1.wav', contentType: 'audio/wav' };
    const g = mergeItems([item('SEG#a', { recordings: [link] }), item('SEG#b', { recordings: [link, { ...link, id: 'url-2' }] })]);
    expect(g.call.recordings.map((r) => r.id)).toEqual(['url-1', 'url-2']);
  });

  it('groups by source and call id, in first-seen order', () => {
    const groups = groupItems([item('SEG#a', {}), item('CALL', { source: 'volubile', callId: 'x' }), item('SEG#b', {})]);
    expect(groups.map((g) => [g.call.source, g.items.length])).toEqual([['engage-voice', 2], ['volubile', 1]]);
  });
});

describe('parseItem', () => {
  it('accepts a stored index item and refuses anything else', () => {
    expect(parseItem({ PK: 'CALL#engage-voice#1', SK: 'SEG#a', source: 'engage-voice', callId: '1', version: 3, record: base })).toMatchObject({ sk: 'SEG#a', version: 3 });
    expect(parseItem({ PK: 'x', SK: 'y', source: 'skype', callId: '1', version: 3, record: base })).toBeUndefined();
    expect(parseItem({ PK: 'x', SK: 'y', source: 'volubile', callId: '1', version: 3, record: { ...base, recordings: 'no' } })).toBeUndefined();
    expect(parseItem(null)).toBeUndefined();
  });
});

describe('format', () => {
  it('prints durations, strips terminal control sequences, aligns columns', () => {
    expect([duration(0), duration(75), duration(3725), duration(undefined)]).toEqual(['0:00', '1:15', '1:02:05', '']);
    expect(clean('ok\u001b[31mred\u0007\nStatus: x')).toBe('ok\\u001B[31mred\\u0007\\u000AStatus: x');
    expect(table(['A', 'NUM'], [['xx', '1'], ['y', '200']], new Set([1])).split('\n')).toEqual(['A   NUM', 'xx    1', 'y   200']);
  });
});

describe('wav', () => {
  it('wraps raw µ-law in a format-7 header with the bytes unchanged, and leaves WAVs alone', () => {
    const data = Buffer.from([0xff, 0x7f, 0x00, 0x80]);
    const wav = asWav(data, 'audio/mulaw;rate=16000');
    expect(wav && isWav(wav)).toBe(true);
    expect(wav?.readUInt16LE(20)).toBe(7);
    expect(wav?.readUInt32LE(24)).toBe(16000);
    expect(wav?.subarray(MULAW_HEADER_BYTES).equals(data)).toBe(true);
    // One writer: the read side wraps raw µ-law exactly as the audio webhook stores it.
    expect(asWav(data, 'audio/mulaw;rate=8000')?.equals(wrapMulaw(data, 8000))).toBe(true);
    expect(asWav(wrapMulaw(data), 'audio/wav')?.equals(wrapMulaw(data))).toBe(true);
    expect(asWav(data, 'application/json')).toBeUndefined();
  });
});
