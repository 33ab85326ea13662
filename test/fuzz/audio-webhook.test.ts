import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseContentType } from '#shared/request';
import { bearerToken, verifyJwt } from '../../functions/audio-webhook/jwt.ts';
import { parseMultipart, requireMultipart } from '../../functions/audio-webhook/multipart.ts';
import { parseMetadata } from '../../functions/audio-webhook/metadata.ts';
import { MULAW_HEADER_BYTES, prepareAudio } from '../../functions/audio-webhook/wav.ts';
import { interpretRecording } from '../../functions/audio-webhook/interpret.ts';
import { hsJwt } from '../fixtures/hostile/common.ts';
import { multipartBody } from '../fixtures/hostile/audio-webhook.ts';
import { RUNS, anyBytes, anyText, typed, typedAsync } from './support.ts';

/** watsonx audio webhook: JWT, multipart, metadata, audio — arbitrary input is a typed 4xx; valid input round-trips. */

const SECRET = 'fuzz-watsonx-secret-7a1c';
const ctx = { engageTimeZone: 'UTC', defaultPhoneRegion: 'US', receivedAt: new Date('2026-11-20T00:00:00Z') };

/** RFC 2046 boundary characters (no trailing space). */
const boundary = fc.string({ unit: fc.constantFrom(...'0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\'()+_,-./:=?'), minLength: 1, maxLength: 70 });
const safeId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_:-]{0,40}$/);

async function parse(body: Buffer, contentType: string) {
  return typedAsync(async () => {
    return parseMultipart(body, requireMultipart(parseContentType(contentType)));
  });
}

describe('JWT (Authorization header)', () => {
  it('arbitrary header values are a 401, never anything else', async () => {
    await fc.assert(fc.asyncProperty(fc.option(anyText, { nil: undefined }), async (header) => {
      const out = await typedAsync(() => verifyJwt(header, SECRET));
      expect(out.ok).toBe(false);
      if (!out.ok) expect(out.status).toBe(401);
    }), { numRuns: RUNS.parser });
  });

  it('JWT-shaped garbage (three base64url segments) is a 401', async () => {
    const seg = fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b).toString('base64url'));
    await fc.assert(fc.asyncProperty(seg, seg, seg, fc.boolean(), async (h, p, s, bearer) => {
      const out = await typedAsync(() => verifyJwt(`${bearer ? 'Bearer ' : ''}${h}.${p}.${s}`, SECRET));
      expect(out.ok ? 200 : out.status).toBe(401);
    }), { numRuns: RUNS.parser });
  });

  it('any token signed with the secret (HS256/384/512, arbitrary claims, no exp) verifies; with another secret it is a 401', async () => {
    const claims = fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }).filter((k) => !['exp', 'nbf', 'iat'].includes(k)), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 });
    await fc.assert(fc.asyncProperty(claims, fc.constantFrom('HS256', 'HS384', 'HS512' as const), fc.string({ minLength: 1, maxLength: 40 }), async (c, alg, other) => {
      const token = hsJwt(SECRET, c, alg);
      expect(bearerToken(`Bearer ${token}`)).toBe(token);
      await expect(verifyJwt(`Bearer ${token}`, SECRET)).resolves.toBeUndefined();
      if (other !== SECRET) {
        const out = await typedAsync(() => verifyJwt(`Bearer ${hsJwt(other, c, alg)}`, SECRET));
        expect(out.ok ? 200 : out.status).toBe(401);
      }
    }), { numRuns: RUNS.parser });
  });
});

describe('multipart', () => {
  it('arbitrary bytes under an arbitrary content type are a typed 4xx (or two parts)', async () => {
    const ct = fc.oneof(anyText, boundary.map((b) => `multipart/form-data; boundary=${b}`), fc.constant('multipart/form-data; boundary=b'));
    await fc.assert(fc.asyncProperty(anyBytes, ct, async (body, contentType) => {
      const out = await parse(body, contentType);
      if (out.ok) {
        expect(out.value.metadata.bytes.length).toBeGreaterThan(0);
        expect(out.value.audio.bytes.length).toBeGreaterThan(0);
      }
    }), { numRuns: RUNS.parser });
  });

  it('a valid body cut at any point, or with any byte changed, is a typed 4xx or still two parts', async () => {
    const valid = multipartBody([
      { name: 'metadata', body: '{"session_id":"s","recording_id":"r"}', contentType: 'application/json' },
      { name: 'audio_recording', body: Buffer.alloc(300, 0x55), contentType: 'audio/mulaw;rate=8000' },
    ], 'fuzzb');
    await fc.assert(fc.asyncProperty(fc.nat({ max: valid.length }), fc.option(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })), { nil: undefined }), async (cut, flip) => {
      const body = Buffer.from(valid.subarray(0, cut));
      if (flip && flip[0] < body.length) body[flip[0]] = flip[1];
      await parse(body, 'multipart/form-data; boundary=fuzzb');
    }), { numRuns: RUNS.parser });
  });

  it('round-trip: the audio and metadata bytes out of any valid multipart equal the bytes in', async () => {
    await fc.assert(fc.asyncProperty(
      boundary,
      fc.uint8Array({ minLength: 1, maxLength: 4000 }),
      fc.uint8Array({ minLength: 1, maxLength: 200 }),
      fc.option(fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,15}\.(wav|ulaw)$/), { nil: undefined }),
      fc.boolean(),
      fc.boolean(),
      async (b, audioIn, metaIn, filename, audioFirst, quoted) => {
        const audio = Buffer.from(audioIn);
        const meta = Buffer.from(metaIn);
        const parts = [
          { name: 'metadata', body: meta, contentType: 'application/json' },
          { name: 'audio_recording', body: audio, contentType: 'audio/mulaw;rate=8000', ...(filename !== undefined ? { filename } : {}) },
        ];
        // A boundary that appears inside a part cannot be framed by any sender; skip those.
        fc.pre(!audio.includes(`\r\n--${b}`) && !meta.includes(`\r\n--${b}`));
        const body = multipartBody(audioFirst ? parts.reverse() : parts, b);
        const contentType = `multipart/form-data; boundary=${quoted ? `"${b}"` : b}`;
        const out = await parse(body, contentType);
        expect(out.ok).toBe(true);
        if (out.ok) {
          expect(Buffer.compare(out.value.audio.bytes, audio)).toBe(0);
          expect(Buffer.compare(out.value.metadata.bytes, meta)).toBe(0);
          expect(out.value.audio.contentType).toBe('audio/mulaw;rate=8000');
          expect(out.value.audio.filename).toBe(filename);
        }
      },
    ), { numRuns: RUNS.parser });
  });
});

describe('metadata and audio', () => {
  it('arbitrary metadata bytes are a 400 or valid metadata with safe ids', () => {
    const shaped = fc.record({
      session_id: fc.oneof(safeId, anyText, fc.integer()),
      recording_id: fc.oneof(safeId, anyText),
      start_timestamp: fc.oneof(fc.date({ noInvalidDate: true, min: new Date(0), max: new Date('2100-01-01') }).map((d) => d.toISOString()), anyText),
      stop_timestamp: fc.oneof(fc.date({ noInvalidDate: true, min: new Date(0), max: new Date('2100-01-01') }).map((d) => d.toISOString()), anyText),
      __proto__: fc.jsonValue({ maxDepth: 2 }),
    }, { requiredKeys: [] }).map((o) => Buffer.from(JSON.stringify(o)));
    fc.assert(fc.property(fc.oneof(anyBytes, shaped), (bytes) => {
      const out = typed(() => parseMetadata(bytes));
      if (out.ok) {
        expect(out.value.session_id).toMatch(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/);
        expect(out.value.session_id).not.toContain('..');
        expect(out.value.recording_id).not.toContain('..');
      } else {
        expect(out.status).toBe(400);
      }
    }), { numRuns: RUNS.pure });
  });

  it('valid metadata round-trips through the interpreter: ids, times and a payload-only version', () => {
    fc.assert(fc.property(safeId, safeId, fc.date({ noInvalidDate: true, min: new Date('2000-01-01'), max: new Date('2099-01-01') }), fc.nat({ max: 3_600_000 }), (session, recording, start, ms) => {
      const meta = Buffer.from(JSON.stringify({ session_id: session, recording_id: recording, start_timestamp: start.toISOString(), stop_timestamp: new Date(start.getTime() + ms).toISOString() }));
      const audio = { s3Key: 'k', sha256: 'h', bytes: 1, contentType: 'audio/mulaw' };
      const a = interpretRecording(meta, audio, ctx);
      const b = interpretRecording(meta, audio, { ...ctx, receivedAt: new Date() });
      expect(a).toEqual(b);
      expect(a.call.callId).toBe(session);
      expect(a.sk).toBe(`REC#${recording}`);
      expect(a.version).toBe(start.getTime() + ms);
    }), { numRuns: RUNS.pure });
  });

  it('arbitrary audio bytes under an arbitrary declared type are a typed 4xx or a WAV', () => {
    const ct = fc.oneof(anyText, fc.constantFrom('audio/mulaw', 'audio/wav', 'audio/basic', 'text/plain', 'application/octet-stream'), fc.string().map((r) => `audio/mulaw;rate=${r}`));
    fc.assert(fc.property(anyBytes, fc.option(ct, { nil: undefined }), (bytes, type) => {
      const out = typed(() => prepareAudio(bytes, type));
      if (out.ok) expect(out.value.wav.subarray(0, 4).toString('latin1')).toBe('RIFF');
    }), { numRuns: RUNS.pure });
  });

  it('round-trip: the WAV data chunk of any µ-law recording is the received bytes, unchanged', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 5000 }), fc.integer({ min: 1000, max: 192_000 }), (bytes, rate) => {
      const audio = Buffer.from(bytes);
      const { wav, kind } = prepareAudio(audio, `audio/mulaw;rate=${rate}`);
      expect(kind).toBe('mulaw');
      expect(wav.readUInt32LE(24)).toBe(rate);
      expect(wav.readUInt32LE(54)).toBe(audio.length);
      expect(Buffer.compare(wav.subarray(MULAW_HEADER_BYTES, MULAW_HEADER_BYTES + audio.length), audio)).toBe(0);
      expect(wav.readUInt32LE(4)).toBe(wav.length - 8);
    }), { numRuns: RUNS.pure });
  });
});
