import { describe, it, expect } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseMultipart, requireMultipart, MAX_METADATA_BYTES } from '../../functions/audio-webhook/multipart.ts';
import { parseContentType } from '#shared/request';
import { prepareAudio } from '../../functions/audio-webhook/wav.ts';
import { multipart, type PartSpec } from './support.ts';

const metadata = readFileSync(new URL('../../events/payloads/watsonx/metadata.json', import.meta.url));
const ulaw = readFileSync(new URL('../../events/payloads/watsonx/recording.ulaw', import.meta.url));

/** The handler's path: the boundary from the request's content type, then the parts. */
async function split(body: Buffer, contentType: string) {
  return parseMultipart(body, requireMultipart(parseContentType(contentType)));
}

function parse(parts: PartSpec[], boundary?: string) {
  const { body, contentType } = multipart(parts, boundary);
  return split(body, contentType);
}

async function rejected(p: Promise<unknown>): Promise<{ statusCode: number; message: string }> {
  try {
    await p;
  } catch (err) {
    return err as { statusCode: number; message: string };
  }
  throw new Error('expected a rejection');
}

/** Audio that would break a parser treating it as text or scanning it sloppily. */
function hostileAudio(boundary: string): Buffer {
  return Buffer.concat([
    Buffer.from([0x00, 0xff, 0xfe, 0x00, 0x0d, 0x0a, 0x0d, 0x0a]),
    Buffer.from(`\r\n--${boundary.slice(0, -1)}\r\n--\r\n`),
    Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0x80]), // invalid UTF-8
    randomBytes(50_000),
    Buffer.from([0x0d, 0x0a, 0x2d, 0x2d]),
  ]);
}

describe('parseMultipart', () => {
  it('keeps the audio part\'s content type parameters: rate=16000 reaches the WAV header', async () => {
    const parts = await parse([
      { name: 'metadata', body: metadata, contentType: 'application/json' },
      { name: 'audio_recording', body: ulaw, contentType: 'audio/mulaw; rate=16000' },
    ]);
    expect(parts.audio.contentType).toBe('audio/mulaw; rate=16000');
    const audio = prepareAudio(parts.audio.bytes, parts.audio.contentType);
    expect(audio.sampleRate).toBe(16000);
    expect(audio.wav.readUInt32LE(24)).toBe(16000);
  });

  it.each(['audio/basic;rate=8000', 'audio/mulaw;rate="16000"', 'audio/mulaw; rate=16000; channels=1'])('keeps %s as sent', async (type) => {
    const parts = await parse([
      { name: 'metadata', body: metadata, contentType: 'application/json' },
      { name: 'audio_recording', body: ulaw, contentType: type },
    ]);
    expect(parts.audio.contentType).toBe(type);
  });

  it('refuses part headers that are not UTF-8, and a base64 part, with 400', async () => {
    const boundary = 'b0undary';
    const bad = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\nX-Bad: `), Buffer.from([0xc3, 0x28]),
      Buffer.from(`\r\n\r\n{}\r\n--${boundary}--\r\n`),
    ]);
    expect(await rejected(split(bad, `multipart/form-data; boundary=${boundary}`))).toMatchObject({ statusCode: 400, message: 'the multipart body is malformed' });
    const b64 = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="audio_recording"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--${boundary}--\r\n`);
    expect((await rejected(split(b64, `multipart/form-data; boundary=${boundary}`))).message).toContain('Content-Transfer-Encoding: base64');
  });

  it('returns the audio byte-exact when the part has no filename (watsonx)', async () => {
    const boundary = 'watsonxboundary123';
    const audio = hostileAudio(boundary);
    const parts = await parse([
      { name: 'metadata', body: metadata, contentType: 'application/json' },
      { name: 'audio_recording', body: audio, contentType: 'audio/mulaw;rate=8000' },
    ], boundary);
    expect(parts.audio.bytes.equals(audio)).toBe(true);
    expect(parts.audio.contentType).toBe('audio/mulaw;rate=8000');
    expect(parts.audio.filename).toBeUndefined();
    expect(parts.metadata.bytes.equals(metadata)).toBe(true);
    expect(parts.metadata.contentType).toBe('application/json');
  });

  it('returns the audio byte-exact with a filename and metadata without content type (IBM test client)', async () => {
    const audio = hostileAudio('xyz');
    const parts = await parse([
      { name: 'metadata', body: metadata },
      { name: 'audio_recording', body: audio, contentType: 'audio/wav', filename: 'recording.wav' },
    ]);
    expect(parts.audio.bytes.equals(audio)).toBe(true);
    expect(parts.audio.filename).toBe('recording.wav');
    expect(parts.metadata.contentType).toBeUndefined();
    expect(parts.metadata.bytes.equals(metadata)).toBe(true);
  });

  it('returns a ~4 MB recording whole (well past a text field\'s 1 MiB limit)', async () => {
    const audio = randomBytes(4 * 1024 * 1024 - 1234);
    const parts = await parse([
      { name: 'audio_recording', body: audio, contentType: 'audio/mulaw;rate=8000' },
      { name: 'metadata', body: metadata, contentType: 'application/json' },
    ]);
    expect(parts.audio.bytes.length).toBe(audio.length);
    expect(parts.audio.bytes.equals(audio)).toBe(true);
  });

  it('ignores unknown parts', async () => {
    const parts = await parse([
      { name: 'metadata', body: metadata },
      { name: 'something_new', body: 'x', filename: 'x.bin' },
      { name: 'audio_recording', body: ulaw, contentType: 'audio/mulaw;rate=8000' },
    ]);
    expect(parts.audio.bytes.equals(ulaw)).toBe(true);
  });

  it.each([
    ['metadata', [{ name: 'audio_recording', body: ulaw, contentType: 'audio/mulaw' }]],
    ['audio_recording', [{ name: 'metadata', body: metadata }]],
  ] as const)('names the missing "%s" part', async (name, specs) => {
    const err = await rejected(parse([...specs]));
    expect(err.statusCode).toBe(400);
    expect(err.message).toContain(`no "${name}" part`);
  });

  it('refuses empty and duplicated parts, naming them', async () => {
    const empty = await rejected(parse([{ name: 'metadata', body: metadata }, { name: 'audio_recording', body: '', contentType: 'audio/mulaw' }]));
    expect(empty).toMatchObject({ statusCode: 400, message: 'the "audio_recording" part is empty' });
    const emptyMeta = await rejected(parse([{ name: 'metadata', body: '' }, { name: 'audio_recording', body: ulaw }]));
    expect(emptyMeta).toMatchObject({ statusCode: 400, message: 'the "metadata" part is empty' });
    const dup = await rejected(parse([
      { name: 'metadata', body: metadata }, { name: 'audio_recording', body: ulaw }, { name: 'audio_recording', body: ulaw },
    ]));
    expect(dup).toMatchObject({ statusCode: 400, message: 'the "audio_recording" part appears more than once' });
  });

  it('refuses a metadata part with a non-JSON content type (415) or one too large (400)', async () => {
    const wrong = await rejected(parse([{ name: 'metadata', body: metadata, contentType: 'image/png' }, { name: 'audio_recording', body: ulaw }]));
    expect(wrong.statusCode).toBe(415);
    const big = await rejected(parse([{ name: 'metadata', body: 'x'.repeat(MAX_METADATA_BYTES + 1) }, { name: 'audio_recording', body: ulaw }]));
    expect(big.statusCode).toBe(400);
  });

  it('refuses a truncated body with 400', async () => {
    const { body, contentType } = multipart([{ name: 'metadata', body: metadata }, { name: 'audio_recording', body: ulaw, contentType: 'audio/mulaw' }]);
    for (const cut of [body.length - 10, Math.floor(body.length / 2), 20, 0]) {
      const err = await rejected(split(body.subarray(0, cut), contentType));
      expect(err.statusCode).toBe(400);
    }
  });

  it('refuses a body whose boundary does not match, and garbage', async () => {
    const { body } = multipart([{ name: 'metadata', body: metadata }, { name: 'audio_recording', body: ulaw }]);
    expect((await rejected(split(body, 'multipart/form-data; boundary=other'))).statusCode).toBe(400);
    expect((await rejected(split(randomBytes(1000), 'multipart/form-data; boundary=abc'))).statusCode).toBe(400);
  });

  it('refuses too many parts and oversized part headers fast', async () => {
    const many = Array.from({ length: 20 }, (_, i) => ({ name: `p${i}`, body: 'x' }));
    expect((await rejected(parse([{ name: 'metadata', body: metadata }, ...many, { name: 'audio_recording', body: ulaw }]))).statusCode).toBe(400);
    const boundary = 'b0undary';
    const hugeHeader = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\nX-Pad: ${'a'.repeat(20_000)}\r\n\r\n{}\r\n--${boundary}--\r\n`);
    expect((await rejected(split(hugeHeader, `multipart/form-data; boundary=${boundary}`))).statusCode).toBe(400);
  });
});

describe('requireMultipart', () => {
  it('wants multipart/form-data (415) with a boundary (400)', () => {
    expect(() => requireMultipart(parseContentType('application/json'))).toThrow(expect.objectContaining({ statusCode: 415 }));
    expect(() => requireMultipart(undefined)).toThrow(expect.objectContaining({ statusCode: 415 }));
    expect(() => requireMultipart(parseContentType('multipart/form-data'))).toThrow(expect.objectContaining({ statusCode: 400 }));
    expect(requireMultipart(parseContentType('multipart/form-data; boundary="abc"'))).toBe('abc');
  });
});
