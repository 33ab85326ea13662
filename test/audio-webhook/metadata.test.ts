import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseMetadata, audioKeyFor } from '../../functions/audio-webhook/metadata.ts';

const fixture = readFileSync(new URL('../../events/payloads/watsonx/metadata.json', import.meta.url));
const valid = JSON.parse(fixture.toString()) as Record<string, unknown>;
const bytes = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

function message(input: unknown): string {
  try {
    parseMetadata(bytes(input));
  } catch (err) {
    expect(err).toMatchObject({ statusCode: 400, code: 'invalid_metadata' });
    return (err as Error).message;
  }
  throw new Error('expected a 400');
}

describe('parseMetadata', () => {
  it('parses the fixture and normalizes timestamps to UTC', () => {
    const meta = parseMetadata(fixture);
    expect(meta.session_id).toBe('7a1c0e52-9d3b-4f68-a2e5-0b6c3d8f1e94');
    expect(meta.recording_id).toBe('c3f7a9e1-2b4d-4c6e-8f0a-1b3d5e7f9a2c');
    expect(meta.start_timestamp).toBe('2026-11-20T14:03:27.481Z');
    const offset = parseMetadata(bytes({ ...valid, start_timestamp: '2026-11-20T15:03:27+01:00', stop_timestamp: undefined }));
    expect(offset.start_timestamp).toBe('2026-11-20T14:03:27.000Z');
  });

  it('keeps unknown keys and needs only session_id and recording_id', () => {
    const meta = parseMetadata(bytes({ session_id: 's-1', recording_id: 'r:1', future_field: 1 }));
    expect(meta).toMatchObject({ session_id: 's-1', recording_id: 'r:1', future_field: 1 });
    expect(meta.start_timestamp).toBeUndefined();
  });

  it('refuses non-JSON, arrays and scalars', () => {
    expect(message('{not json')).toMatch(/not valid JSON/);
    expect(message([valid])).toMatch(/JSON object/);
    expect(message('42')).toMatch(/JSON object/);
    expect(message('null')).toMatch(/JSON object/);
  });

  it('names a missing or mistyped field', () => {
    expect(message({ ...valid, session_id: undefined })).toMatch(/metadata\.session_id is missing/);
    expect(message({ ...valid, recording_id: 7 })).toMatch(/metadata\.recording_id must be a string/);
    expect(message({ ...valid, assistant_id: {} })).toMatch(/metadata\.assistant_id/);
    expect(message({ ...valid, start_timestamp: 'yesterday' })).toMatch(/metadata\.start_timestamp must be an ISO-8601/);
    expect(message({ ...valid, stop_timestamp: '2026-11-20T14:03:27' })).toMatch(/metadata\.stop_timestamp/);
    expect(message({ ...valid, stop_timestamp: '2026-11-20T14:00:00Z' })).toMatch(/before/);
  });

  it.each(['../etc', 'a/b', 'a..b', '', '.hidden', 'a b', 'x'.repeat(129), 'é', 'a\u0000b'])('refuses unsafe id %j', (id) => {
    expect(message({ ...valid, session_id: id })).toMatch(/metadata\.session_id/);
    expect(message({ ...valid, recording_id: id })).toMatch(/metadata\.recording_id/);
  });
});

describe('audioKeyFor', () => {
  it('dates the key by the recording start, else by receive time', () => {
    const meta = parseMetadata(fixture);
    expect(audioKeyFor(meta, new Date('2030-01-01T00:00:00Z'))).toBe(
      'audio/watsonx/2026/11/20/7a1c0e52-9d3b-4f68-a2e5-0b6c3d8f1e94/c3f7a9e1-2b4d-4c6e-8f0a-1b3d5e7f9a2c.wav');
    expect(audioKeyFor({ session_id: 's', recording_id: 'r' }, new Date('2030-01-02T03:00:00Z'))).toBe('audio/watsonx/2030/01/02/s/r.wav');
  });
});
