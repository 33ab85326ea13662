import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseMultipart, parseWellFormed, parseWithBusboy, type AudioWebhookParts } from '../../functions/audio-webhook/multipart.ts';
import { HttpError } from '#shared/errors';

// functions/audio-webhook/multipart.ts splits plain, well-formed bodies itself
// (parseWellFormed, for speed) and hands everything else to busboy. Here the
// combined parser and busboy alone judge the same generated and mutated
// bodies: same parts byte for byte, or the same refusal (status and message).

type Outcome = { ok: true; parts: AudioWebhookParts } | { ok: false; status: number; message: string };

async function outcome(p: Promise<AudioWebhookParts>): Promise<Outcome> {
  try {
    return { ok: true, parts: await p };
  } catch (err) {
    if (err instanceof HttpError) return { ok: false, status: err.statusCode, message: err.message };
    throw err;
  }
}

function summary(o: Outcome): unknown {
  if (!o.ok) return o;
  const part = (x: AudioWebhookParts['audio']) => ({ hex: x.bytes.toString('hex'), contentType: x.contentType, filename: x.filename });
  return { ok: true, audio: part(o.parts.audio), metadata: part(o.parts.metadata) };
}

interface GenPart { name: string; head?: string; body: Uint8Array; contentType?: string; filename?: string }

function body(parts: GenPart[], boundary: string, preamble: string, tail: string): Buffer {
  const chunks: Buffer[] = [Buffer.from(preamble, 'latin1')];
  for (const p of parts) {
    let head = p.head ?? `Content-Disposition: form-data; name="${p.name}"`;
    if (p.head === undefined && p.filename !== undefined) head += `; filename="${p.filename}"`;
    if (p.head === undefined && p.contentType !== undefined) head += `\r\nContent-Type: ${p.contentType}`;
    chunks.push(Buffer.from(`--${boundary}\r\n${head}\r\n\r\n`, 'latin1'), Buffer.from(p.body), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--${tail}`, 'latin1'));
  return Buffer.concat(chunks);
}

const boundaryArb = fc.stringMatching(/^[A-Za-z0-9'()+_,./:=?-]{1,40}$/);
const partArb: fc.Arbitrary<GenPart> = fc.record({
  name: fc.constantFrom('metadata', 'audio_recording', 'other', 'Metadata'),
  body: fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.constant(new Uint8Array(0)), fc.constant(Buffer.from('{"a":1}'))),
  contentType: fc.option(fc.constantFrom('application/json', 'audio/mulaw;rate=8000', 'text/plain', 'image/png', ' audio/wav ', 'audio/x-wav'), { nil: undefined }),
  filename: fc.option(fc.constantFrom('a.wav', 'my file.ulaw', 'C:\\x\\y.wav', 'dir/z.wav', ''), { nil: undefined }),
  head: fc.option(fc.constantFrom(
    'content-disposition: form-data; name="metadata"',
    'Content-Disposition:form-data; name="audio_recording"',
    'Content-Disposition: form-data; name=metadata',
    'Content-Disposition: form-data; name="audio_recording"\r\n folded',
    'Content-Disposition: form-data; name="audio_recording"\r\nX-Extra: 1',
    'Content-Disposition: form-data; name="audio_recording"\r\nContent-Type:\taudio/wav',
    'Content-Type: audio/wav\r\nContent-Disposition: form-data; name="audio_recording"',
  ), { nil: undefined, freq: 4 }),
});

describe('multipart fast path agrees with busboy', () => {
  it('on generated bodies: parts, order, headers, preamble, epilogue, quoting', async () => {
    await fc.assert(fc.asyncProperty(
      boundaryArb,
      fc.array(partArb, { minLength: 0, maxLength: 4 }),
      fc.constantFrom('', '', 'preamble\r\n'),
      fc.constantFrom('\r\n', '', '\r\nepilogue', '  \r\n'),
      fc.constantFrom('plain', 'quoted', 'nospace', 'twice'),
      async (b, parts, preamble, tail, ctForm) => {
        const raw = body(parts, b, preamble, tail);
        const ct = ctForm === 'quoted' ? `multipart/form-data; boundary="${b}"`
          : ctForm === 'nospace' ? `multipart/form-data;boundary=${b}`
            : ctForm === 'twice' ? `multipart/form-data; boundary=${b}; boundary=x${b}` : `multipart/form-data; boundary=${b}`;
        const expected = summary(await outcome(parseWithBusboy(raw, ct)));
        expect(summary(await outcome(parseMultipart(raw, ct)))).toEqual(expected);
      },
    ), { numRuns: 1500 });
  });

  it('on a valid body cut or corrupted at any byte', async () => {
    const valid = body([
      { name: 'metadata', body: Buffer.from('{"session_id":"s","recording_id":"r"}'), contentType: 'application/json' },
      { name: 'audio_recording', body: Buffer.from([0, 13, 10, 45, 45, 98, 255]), contentType: 'audio/mulaw;rate=8000' },
    ], 'bnd', '', '\r\n');
    const ct = 'multipart/form-data; boundary=bnd';
    expect(parseWellFormed(valid, ct)?.size).toBe(2);
    for (let i = 0; i < valid.length; i++) {
      const cut = valid.subarray(0, i);
      expect(summary(await outcome(parseMultipart(cut, ct))), `cut at ${i}`).toEqual(summary(await outcome(parseWithBusboy(cut, ct))));
      for (const byte of [0x0d, 0x0a, 0x2d, 0x22, 0x20, 0x41]) {
        const bad = Buffer.from(valid);
        bad[i] = byte;
        expect(summary(await outcome(parseMultipart(bad, ct))), `byte ${i} := ${byte}`).toEqual(summary(await outcome(parseWithBusboy(bad, ct))));
      }
    }
  });

  it('takes the fast path for the watsonx shape and returns views of the body (no copy)', () => {
    const audio = Buffer.from([1, 2, 3, 4]);
    const raw = body([
      { name: 'metadata', body: Buffer.from('{}'), contentType: 'application/json' },
      { name: 'audio_recording', body: audio, contentType: 'audio/mulaw;rate=8000' },
    ], 'xyz', '', '\r\n');
    const parts = parseWellFormed(raw, 'multipart/form-data; boundary=xyz');
    const chunk = parts?.get('audio_recording')?.chunks[0];
    expect(chunk?.equals(audio)).toBe(true);
    expect(chunk?.buffer).toBe(raw.buffer);
  });
});
