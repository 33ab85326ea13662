import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { prepareAudio, wrapMulaw, isWav, MULAW_HEADER_BYTES } from '../../functions/audio-webhook/wav.ts';
import { linearToMulaw } from './support.ts';

const ulaw = readFileSync(new URL('../../events/payloads/watsonx/recording.ulaw', import.meta.url));
const wavFixture = readFileSync(new URL('../../events/payloads/watsonx/recording.wav', import.meta.url));

/** An independent reader of RIFF chunks: what a player would see. */
function readWav(buf: Buffer) {
  expect(buf.toString('latin1', 0, 4)).toBe('RIFF');
  expect(buf.readUInt32LE(4)).toBe(buf.length - 8);
  expect(buf.toString('latin1', 8, 12)).toBe('WAVE');
  const chunks = new Map<string, Buffer>();
  let at = 12;
  while (at + 8 <= buf.length) {
    const id = buf.toString('latin1', at, at + 4);
    const size = buf.readUInt32LE(at + 4);
    chunks.set(id, buf.subarray(at + 8, at + 8 + size));
    at += 8 + size + (size % 2);
  }
  expect(at).toBe(buf.length);
  const fmt = chunks.get('fmt ')!;
  return {
    format: fmt.readUInt16LE(0), channels: fmt.readUInt16LE(2), rate: fmt.readUInt32LE(4), byteRate: fmt.readUInt32LE(8),
    blockAlign: fmt.readUInt16LE(12), bits: fmt.readUInt16LE(14), cbSize: fmt.length >= 18 ? fmt.readUInt16LE(16) : undefined,
    fact: chunks.get('fact')?.readUInt32LE(0), data: chunks.get('data')!, order: [...chunks.keys()],
  };
}

describe('wrapMulaw', () => {
  it('writes a G.711 µ-law WAV whose data chunk is the input, unchanged', () => {
    const wav = wrapMulaw(ulaw);
    expect(wav.length).toBe(MULAW_HEADER_BYTES + ulaw.length);
    const w = readWav(wav);
    expect(w).toMatchObject({ format: 7, channels: 1, rate: 8000, byteRate: 8000, blockAlign: 1, bits: 8, cbSize: 0, fact: ulaw.length });
    expect(w.order).toEqual(['fmt ', 'fact', 'data']);
    expect(w.data.equals(ulaw)).toBe(true);
    expect(isWav(wav)).toBe(true);
  });

  it('pads an odd-length data chunk without counting the pad', () => {
    const odd = Buffer.from([0xff, 0x00, 0x7f]);
    const wav = wrapMulaw(odd, 16000);
    expect(wav.length).toBe(MULAW_HEADER_BYTES + 4);
    const w = readWav(wav);
    expect(w.data.equals(odd)).toBe(true);
    expect(w.rate).toBe(16000);
    expect(wav.at(-1)).toBe(0);
  });
});

describe('prepareAudio', () => {
  it.each(['audio/mulaw;rate=8000', 'audio/basic', 'audio/x-mulaw', 'AUDIO/PCMU; rate="8000"', 'audio/mulaw'])('wraps %s', (ct) => {
    const out = prepareAudio(ulaw, ct);
    expect(out.kind).toBe('mulaw');
    expect(readWav(out.wav).data.equals(ulaw)).toBe(true);
  });

  it('uses the declared rate', () => {
    expect(readWav(prepareAudio(ulaw, 'audio/mulaw;rate=16000').wav).rate).toBe(16000);
    expect(() => prepareAudio(ulaw, 'audio/mulaw;rate=fast')).toThrow(expect.objectContaining({ statusCode: 400 }));
  });

  it.each(['audio/wav', 'audio/x-wav', 'audio/wave', 'application/octet-stream', undefined])('stores a WAV file as is (%s)', (ct) => {
    const out = prepareAudio(wavFixture, ct);
    expect(out.kind).toBe('wav');
    expect(out.wav).toBe(wavFixture);
  });

  it('refuses empty audio (400), a fake WAV (400) and other formats (415, listing what is accepted)', () => {
    expect(() => prepareAudio(Buffer.alloc(0), 'audio/mulaw')).toThrow(expect.objectContaining({ statusCode: 400 }));
    expect(() => prepareAudio(ulaw, 'audio/wav')).toThrow(expect.objectContaining({ statusCode: 400 }));
    expect(() => prepareAudio(ulaw, undefined)).toThrow(expect.objectContaining({ statusCode: 415 }));
    expect(() => prepareAudio(ulaw, 'audio/mpeg')).toThrow(/accepted: audio\/mulaw;rate=8000/);
  });

  it('keeps only printable ASCII of the declared type for S3 metadata', () => {
    expect(prepareAudio(ulaw, 'audio/mulaw;rate=8000;note="é"').sourceContentType).toBe('audio/mulaw;rate=8000;note=""');
  });
});

describe('fixtures', () => {
  it('recording.ulaw is 3 s of µ-law from a correct encoder', () => {
    expect(ulaw.length).toBe(24_000);
    expect(linearToMulaw(0)).toBe(0xff);
    expect(linearToMulaw(32767)).toBe(0x80);
    expect(linearToMulaw(-32768)).toBe(0x00);
    expect(linearToMulaw(-1)).toBe(0x7f);
    expect(new Set(ulaw).size).toBeGreaterThan(100);
  });

  it('recording.wav is a WAV file', () => {
    expect(isWav(wavFixture)).toBe(true);
    expect(readWav(wavFixture)).toMatchObject({ format: 1, channels: 1, rate: 8000, bits: 16 });
  });
});
