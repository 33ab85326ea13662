import { describe, it, expect } from 'vitest';
import { HttpError } from '#shared/errors';
import { parseJsonObject, plainJson, stringValues, MAX_JSON_DEPTH } from '../../functions/call-completed/json.ts';
import { parseInstant, parseSeconds, toIso } from '#shared/time';
import { splitTranscript, turnsFromList } from '../../functions/call-completed/transcript.ts';

function rejection(fn: () => unknown): { status: number; code: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof HttpError) return { status: err.statusCode, code: err.code };
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('parseJsonObject', () => {
  it('returns the object of a UTF-8 JSON body, BOM tolerated', () => {
    expect(parseJsonObject(Buffer.from('{"a":"é","b":[1,{"c":null}]}'))).toEqual({ a: 'é', b: [1, { c: null }] });
    expect(parseJsonObject(Buffer.from('\uFEFF{"a":1}'))).toEqual({ a: 1 });
  });

  it('refuses invalid UTF-8, non-JSON, empty bodies and non-objects with typed 400s', () => {
    expect(rejection(() => parseJsonObject(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])))).toEqual({ status: 400, code: 'invalid_utf8' });
    expect(rejection(() => parseJsonObject(Buffer.from('{"a":')))).toEqual({ status: 400, code: 'invalid_json' });
    expect(rejection(() => parseJsonObject(Buffer.from('')))).toEqual({ status: 400, code: 'invalid_json' });
    expect(rejection(() => parseJsonObject(Buffer.from('  \n')))).toEqual({ status: 400, code: 'invalid_json' });
    for (const body of ['[]', '"x"', '42', 'null', 'true']) {
      expect(rejection(() => parseJsonObject(Buffer.from(body)))).toEqual({ status: 400, code: 'not_an_object' });
    }
  });

  it('refuses nesting beyond the limit before parsing, but not brackets inside strings', () => {
    const deep = '{"a":' + '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH) + '}';
    expect(rejection(() => parseJsonObject(Buffer.from(deep)))).toEqual({ status: 400, code: 'too_deep' });
    expect(rejection(() => parseJsonObject(Buffer.from('['.repeat(100_000))))).toEqual({ status: 400, code: 'too_deep' });
    const okDepth = '{"a":' + '['.repeat(MAX_JSON_DEPTH - 1) + ']'.repeat(MAX_JSON_DEPTH - 1) + '}';
    expect(parseJsonObject(Buffer.from(okDepth))).toHaveProperty('a');
    const inString = JSON.stringify({ s: '[[[[' + '{'.repeat(200) + '\\"[' });
    expect(parseJsonObject(Buffer.from(inString)).s).toContain('{{{{');
  });

  it('makes numbers DynamoDB cannot hold into strings, keeps the rest', () => {
    // As a vendor's body would deliver them: JSON.parse rounds the literals.
    expect(plainJson(JSON.parse('{"big":12345678901234567890,"inf":1e400,"n":1.5,"a":[9007199254740993],"s":"x"}')))
      .toEqual({ big: '12345678901234567000', inf: 'Infinity', n: 1.5, a: ['9007199254740992'], s: 'x' });
    expect(stringValues({ a: 'x', b: true, c: 3, d: null, e: { f: 1 } })).toEqual({ a: 'x', b: 'true', c: '3' });
    expect(stringValues({ d: null })).toBeUndefined();
  });
});

describe('parseInstant', () => {
  it('reads UTC Z times (Volubile) with and without a fraction', () => {
    expect(toIso(parseInstant('2024-07-30T14:35:00Z'))).toBe('2024-07-30T14:35:00.000Z');
    expect(toIso(parseInstant('2024-07-30T14:35:00.5Z'))).toBe('2024-07-30T14:35:00.500Z');
  });

  it('reads offsets and microseconds (Synthflow), truncating to milliseconds', () => {
    expect(toIso(parseInstant('2024-03-28T18:17:46.205134+01:00'))).toBe('2024-03-28T17:17:46.205Z');
    expect(toIso(parseInstant('2024-03-28T18:17:46.999999-05:30'))).toBe('2024-03-28T23:47:46.999Z');
    expect(toIso(parseInstant('2024-03-28T00:10:00+0200'))).toBe('2024-03-27T22:10:00.000Z');
    expect(toIso(parseInstant('2024-03-28 18:17:46.205134+00:00'))).toBe('2024-03-28T18:17:46.205Z');
  });

  it('reads epoch milliseconds as a string or a number', () => {
    expect(toIso(parseInstant('1711646266205'))).toBe('2024-03-28T17:17:46.205Z');
    expect(toIso(parseInstant(1711646266205))).toBe('2024-03-28T17:17:46.205Z');
  });

  it('refuses what it cannot read unambiguously', () => {
    for (const bad of ['', 'yesterday', '2024-03-28T18:17:46', '2024-02-30T10:00:00Z', '2024-13-01T00:00:00Z',
      '2024-03-28T24:00:00Z', '1711646266', '17116462662051234', 1711646266.5, -1, null, undefined, {}]) {
      expect(parseInstant(bad), String(bad)).toBeUndefined();
    }
  });

  it('reads durations as non-negative seconds', () => {
    expect(parseSeconds(32)).toBe(32);
    expect(parseSeconds('113')).toBe(113);
    expect(parseSeconds('1.5')).toBe(1.5);
    expect(parseSeconds(-1)).toBeUndefined();
    expect(parseSeconds('01:02')).toBeUndefined();
    expect(parseSeconds(Number.NaN)).toBeUndefined();
  });
});

describe('splitTranscript', () => {
  it('splits Synthflow bot/human lines into agent/customer turns', () => {
    expect(splitTranscript('\nbot: Hello! \nhuman: Yes.\nbot: Great.')).toEqual([
      { speaker: 'agent', text: 'Hello!' },
      { speaker: 'customer', text: 'Yes.' },
      { speaker: 'agent', text: 'Great.' },
    ]);
  });

  it('maps assistant/agent and user labels, keeps other labels as unknown', () => {
    expect(splitTranscript('assistant: a\nuser: b\nAgent: c\nsystem: d').map((t) => t.speaker))
      .toEqual(['agent', 'customer', 'agent', 'unknown']);
  });

  it('continues multi-line turns with the previous speaker and drops empty turns', () => {
    expect(splitTranscript('bot: first line\nsecond line\r\nhuman:\nbot: ok')).toEqual([
      { speaker: 'agent', text: 'first line\nsecond line' },
      { speaker: 'agent', text: 'ok' },
    ]);
  });

  it('keeps text before any label as an unknown turn, and a URL is not a label', () => {
    expect(splitTranscript('hello there\nbot: see https://example.com')).toEqual([
      { speaker: 'unknown', text: 'hello there' },
      { speaker: 'agent', text: 'see https://example.com' },
    ]);
    expect(splitTranscript('')).toEqual([]);
  });

  it('reads structured turns', () => {
    expect(turnsFromList([{ role: 'agent', text: ' hi ' }, { speaker: 'user', content: 'yo' }, { message: 'x' }, 'junk', { role: 'bot' }]))
      .toEqual([{ speaker: 'agent', text: 'hi' }, { speaker: 'customer', text: 'yo' }, { speaker: 'unknown', text: 'x' }]);
  });
});
