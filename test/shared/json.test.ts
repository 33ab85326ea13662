import { describe, it, expect } from 'vitest';
import { parseJsonObject, nestingDepth } from '#shared/json';
import { rejection } from '../support/rejection.ts';


describe('parseJsonObject', () => {
  it('returns the object', () => {
    expect(parseJsonObject(Buffer.from('{"a":[1,{"b":2}]}'))).toEqual({ a: [1, { b: 2 }] });
  });

  it('names the input and uses the caller\'s codes', () => {
    const opts = { what: 'the metadata part', maxDepth: 2, codes: { utf8: 'x_utf8', depth: 'x_depth', syntax: 'x_syntax', shape: 'x_shape' } };
    expect(rejection(() => parseJsonObject(Buffer.from([0x7b, 0xff, 0x7d]), opts))).toEqual({ status: 400, code: 'x_utf8', message: 'the metadata part is not valid UTF-8' });
    expect(rejection(() => parseJsonObject(Buffer.from('{"a":{"b":{}}}'), opts))).toEqual({ status: 400, code: 'x_depth', message: 'the metadata part is nested deeper than 2 levels' });
    expect(rejection(() => parseJsonObject(Buffer.from('{"a":'), opts))).toEqual({ status: 400, code: 'x_syntax', message: 'the metadata part is not valid JSON' });
    expect(rejection(() => parseJsonObject(Buffer.from('  '), opts)).code).toBe('x_syntax');
    expect(rejection(() => parseJsonObject(Buffer.from('[1]'), opts))).toEqual({ status: 400, code: 'x_shape', message: 'the metadata part must be a JSON object' });
  });

  it('checks depth before parsing, ignoring brackets inside strings', () => {
    expect(nestingDepth('{"a":"[[[[[[[[","b":[{}]}')).toBe(3);
    expect(nestingDepth('{"a":"\\"[[[["}')).toBe(1);
    expect(rejection(() => parseJsonObject(Buffer.from('['.repeat(100_000)))).code).toBe('too_deep');
  });
});
