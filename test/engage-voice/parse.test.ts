import { describe, it, expect } from 'vitest';
import { HttpError } from '#shared/errors';
import {
  MAX_FIELDS, canonicalName, parseFields, parseFormFields, parseJsonFields, presentValue, rawPayload, toPayload,
} from '../../functions/engage-voice/parse.ts';
import { apiEvent, fixture, formEvent, getEvent, jsonEvent, request } from './support.ts';

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    if (err instanceof HttpError) return `${err.statusCode} ${err.code}`;
    throw err;
  }
  return 'ok';
}

describe('body kinds', () => {
  it('reads a JSON object of strings, turning unquoted scalars into strings and dropping nulls', () => {
    const fields = parseJsonFields(Buffer.from('{"uii":"202611201412050130040000123456","duration":205,"x":true,"y":null}'));
    expect(fields).toEqual({ uii: '202611201412050130040000123456', duration: '205', x: 'true' });
  });

  it('reads a form body with + and percent-escapes; first value of a repeated field wins', () => {
    const fields = parseFormFields(Buffer.from('uii=123&disposition=Call+Back%20Later&note=caf%C3%A9&uii=999&flag'));
    expect(fields).toEqual({ uii: '123', disposition: 'Call Back Later', note: 'café', flag: '' });
  });

  it('chooses the parser by content type, charset parameters allowed; anything else is 415', () => {
    expect(parseFields(Buffer.from('{"uii":"1"}'), 'application/json; charset=utf-8')).toEqual({ uii: '1' });
    expect(parseFields(Buffer.from('uii=1'), 'Application/X-WWW-Form-Urlencoded;charset=UTF-8')).toEqual({ uii: '1' });
    expect(codeOf(() => parseFields(Buffer.from('uii=1'), 'text/plain'))).toBe('415 unsupported_media_type');
    expect(codeOf(() => parseFields(Buffer.from('<x/>'), 'application/xml'))).toBe('415 unsupported_media_type');
    expect(codeOf(() => parseFields(Buffer.from('uii=1'), ''))).toBe('415 unsupported_media_type');
    expect(codeOf(() => parseFields(Buffer.from('--b'), 'multipart/form-data; boundary=b'))).toBe('415 unsupported_media_type');
  });

  it.each([
    ['not JSON', '{"uii":', '400 invalid_json'],
    ['an array', '["uii"]', '400 invalid_json'],
    ['a string', '"uii"', '400 invalid_json'],
    ['null', 'null', '400 invalid_json'],
    ['a nested object', '{"uii":"1","agent":{"id":"2"}}', '400 invalid_field'],
    ['an array value', '{"uii":["1"]}', '400 invalid_field'],
    ['deeply nested JSON', `{"uii":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, '400 too_deep'],
    ['unterminated deep nesting', '['.repeat(200_000), '400 too_deep'],
  ])('refuses JSON that is %s with 400', (_what, body, code) => {
    expect(codeOf(() => parseJsonFields(Buffer.from(body)))).toBe(code);
  });

  it('refuses invalid UTF-8 and invalid form encoding with 400', () => {
    expect(codeOf(() => parseJsonFields(Buffer.from([0x7b, 0xff, 0x7d])))).toBe('400 invalid_encoding');
    expect(codeOf(() => parseFormFields(Buffer.from('uii=%ZZ')))).toBe('400 invalid_form');
    expect(codeOf(() => parseFormFields(Buffer.from('uii=%4')))).toBe('400 invalid_form');
    expect(codeOf(() => parseFormFields(Buffer.from('uii=%FF%FE')))).toBe('400 invalid_form');
    expect(codeOf(() => parseFormFields(Buffer.from('=x')))).toBe('400 invalid_field');
  });

  it(`refuses 20,000 fields (more than ${MAX_FIELDS}) in form and JSON bodies`, () => {
    const form = Array.from({ length: 20_000 }, (_, i) => `f${i}=x`).join('&');
    expect(codeOf(() => parseFormFields(Buffer.from(form)))).toBe('400 too_many_fields');
    const json = JSON.stringify(Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`f${i}`, 'x'])));
    expect(codeOf(() => parseJsonFields(Buffer.from(json)))).toBe('400 too_many_fields');
  });

  it('never takes `token` as payload', () => {
    expect(parseFormFields(Buffer.from('uii=1&token=secret'))).toEqual({ uii: '1' });
    expect(toPayload({ uii: '1', Token: 'secret' }).other).toEqual({});
  });
});

describe('what gets archived', () => {
  it('keeps a POSTed body byte for byte, with its content type and extension', () => {
    const json = rawPayload(request(jsonEvent({ uii: '1' }, { query: { token: 't' } })));
    expect(Buffer.from(json.bytes).toString()).toBe('{"uii":"1"}');
    expect(json).toMatchObject({ contentType: 'application/json', extension: 'json' });
    const form = rawPayload(request(formEvent({ uii: '1', ani: '6175550142' })));
    expect(Buffer.from(form.bytes).toString()).toBe('uii=1&ani=6175550142');
    expect(form).toMatchObject({ contentType: 'application/x-www-form-urlencoded', extension: 'form' });
  });

  it('turns a GET query (or a POST with an empty body) into a form body without the token', () => {
    const get = rawPayload(request(getEvent({ uii: '42', agent_id: '7', token: 'secret-token' })));
    expect(Buffer.from(get.bytes).toString()).toBe('uii=42&agent_id=7');
    expect(get).toMatchObject({ contentType: 'application/x-www-form-urlencoded', extension: 'form' });
    const emptyPost = rawPayload(request(apiEvent({ method: 'POST', query: { uii: '42', token: 'secret-token' } })));
    expect(Buffer.from(emptyPost.bytes).toString()).toBe('uii=42');
  });

  it('refuses a GET with no fields and a POST body of another type', () => {
    expect(codeOf(() => rawPayload(request(getEvent({ token: 'x' }))))).toBe('400 empty_payload');
    expect(codeOf(() => rawPayload(request(apiEvent({ headers: { 'content-type': 'text/xml' }, body: '<uii/>' }))))).toBe('415 unsupported_media_type');
    expect(codeOf(() => rawPayload(request(apiEvent({ body: 'uii=1' }))))).toBe('415 unsupported_media_type');
  });
});

describe('field names and values', () => {
  it('accepts snake_case, camelCase and upper case names alike', () => {
    expect(canonicalName('sess_agent_perspective_recording_url')).toBe(canonicalName('sessAgentPerspectiveRecordingUrl'));
    expect(canonicalName('UII')).toBe('uii');
    const snake = toPayload(fixture('agent-termination'));
    const camel = toPayload(fixture('agent-termination-camel'));
    for (const key of ['uii', 'agentId', 'agentUsername', 'agentFirstName', 'agentLastName', 'ani', 'dnis', 'callStart', 'recordingUrl', 'agentRecordingUrl', 'disposition', 'callType'] as const) {
      expect(camel[key], key).toBe(snake[key]);
      expect(snake[key], key).toBeDefined();
    }
    expect(snake.other).toEqual({ queue_id: '88201', queue_name: 'Billing Support' });
    expect(camel.other).toEqual({ queueName: 'Billing Support' });
  });

  it('treats unsubstituted #tags# and empty values as absent', () => {
    expect(presentValue('#agent_first_name#')).toBeUndefined();
    expect(presentValue('  ')).toBeUndefined();
    expect(presentValue('##')).toBeUndefined();
    expect(presentValue('Call #2')).toBe('Call #2');
    const p = toPayload(fixture('agent-termination-tags'));
    expect(p.agentFirstName).toBeUndefined();
    expect(p.disposition).toBeUndefined();
    expect(p.recordingUrl).toBeUndefined();
    expect(p.agentRecordingUrl).toMatch(/^https:/);
    expect(p.other).toEqual({});
  });

  it('takes uii as 1–64 digits and keeps it a string; absent (or an unsubstituted tag) it is undefined', () => {
    expect(toPayload({ uii: '000000000000000000000000000001' }).uii).toBe('000000000000000000000000000001');
    expect(toPayload({ agent_id: '1' }).uii).toBeUndefined();
    expect(toPayload({ uii: '#uii#', agent_id: '1' }).uii).toBeUndefined();
    expect(codeOf(() => toPayload({ uii: '12a' }))).toBe('400 invalid_payload');
    expect(codeOf(() => toPayload({ uii: '1'.repeat(65) }))).toBe('400 invalid_payload');
    expect(codeOf(() => toPayload({ uii: '../../etc' }))).toBe('400 invalid_payload');
    expect(codeOf(() => toPayload({ uii: '1', agent_id: 'a/b' }))).toBe('400 invalid_payload');
  });
});
