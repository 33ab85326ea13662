import { BadRequest, UnsupportedMediaType } from '#shared/errors';
import { parseContentType } from '#shared/request';

/**
 * Makes a received recording playable: raw G.711 µ-law (what watsonx sends,
 * `audio/mulaw;rate=8000`) is wrapped in a WAV container whose data chunk is
 * the received bytes unchanged; a WAV file is stored as it came.
 */

export const MULAW_TYPES = ['audio/mulaw', 'audio/x-mulaw', 'audio/basic', 'audio/pcmu'] as const;
export const WAV_TYPES = ['audio/wav', 'audio/x-wav', 'audio/wave', 'audio/vnd.wave'] as const;
/** Declared types that say nothing about the format: the bytes decide (a WAV file, or refused). */
const UNDECLARED_TYPES = ['', 'text/plain', 'application/octet-stream'] as const;

export const WAVE_FORMAT_MULAW = 7;
export const MULAW_HEADER_BYTES = 58;
const DEFAULT_RATE = 8000;

export interface PreparedAudio {
  /** What to store: a WAV file. */
  wav: Buffer;
  /** How the audio arrived: `mulaw` was wrapped, `wav` is stored as is. */
  kind: 'mulaw' | 'wav';
  sampleRate?: number;
  /** The declared content type, safe for S3 user metadata (printable ASCII, bounded). */
  sourceContentType: string;
}

function metadataSafe(declared: string | undefined): string {
  const cleaned = (declared ?? '').replace(/[^\x20-\x7e]/g, '').trim().slice(0, 200);
  return cleaned === '' ? 'application/octet-stream' : cleaned;
}

const ACCEPTED = `${MULAW_TYPES[0]};rate=8000 (raw 8-bit µ-law; also ${MULAW_TYPES.slice(1).join(', ')}) or a WAV file (${WAV_TYPES.join(', ')})`;

export function isWav(bytes: Uint8Array): boolean {
  return bytes.length >= 12
    && bytes[0] === 0x52 && bytes[1] === 0x49 && bytes[2] === 0x46 && bytes[3] === 0x46 // RIFF
    && bytes[8] === 0x57 && bytes[9] === 0x41 && bytes[10] === 0x56 && bytes[11] === 0x45; // WAVE
}

/**
 * Why a RIFF/WAVE file cannot be played, or undefined when it can: a player
 * needs a `fmt ` chunk (at least 16 bytes) before a non-empty `data` chunk.
 */
export function unplayableWav(bytes: Uint8Array): string | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let fmt = false;
  for (let at = 12; at + 8 <= bytes.length;) {
    const id = String.fromCharCode(bytes[at] ?? 0, bytes[at + 1] ?? 0, bytes[at + 2] ?? 0, bytes[at + 3] ?? 0);
    const size = view.getUint32(at + 4, true);
    if (id === 'fmt ') {
      if (size < 16 || at + 8 + size > bytes.length) return 'its fmt chunk is truncated';
      fmt = true;
    } else if (id === 'data') {
      if (!fmt) return 'its data chunk comes before any fmt chunk';
      return size === 0 || at + 8 >= bytes.length ? 'its data chunk is empty' : undefined;
    }
    at += 8 + size + (size % 2);
  }
  return fmt ? 'it has no data chunk' : 'it has no fmt chunk';
}

function includes(list: readonly string[], value: string): boolean {
  return list.includes(value);
}

/**
 * Decides how to store the audio part from its declared content type (the raw
 * header value, parameters included) and its bytes. Throws 400 for empty or
 * inconsistent audio, 415 for a format we cannot make playable.
 */
export function prepareAudio(bytes: Buffer, declaredContentType: string | undefined): PreparedAudio {
  if (bytes.length === 0) throw new BadRequest('the audio_recording part is empty', 'invalid_audio');
  const ct = parseContentType(declaredContentType);
  const type = ct?.type ?? '';
  if (includes(MULAW_TYPES, type)) {
    const rateParam = ct?.params.rate;
    const sampleRate = rateParam === undefined ? DEFAULT_RATE : Number(rateParam);
    if (!Number.isInteger(sampleRate) || sampleRate < 1000 || sampleRate > 192_000) {
      throw new BadRequest(`the audio_recording rate "${rateParam ?? ''}" is not a sample rate in Hz (e.g. rate=8000)`, 'invalid_audio');
    }
    return { wav: wrapMulaw(bytes, sampleRate), kind: 'mulaw', sampleRate, sourceContentType: metadataSafe(declaredContentType) };
  }
  if (includes(WAV_TYPES, type) || includes(UNDECLARED_TYPES, type)) {
    if (isWav(bytes)) {
      const why = unplayableWav(bytes);
      if (why) throw new BadRequest(`the audio_recording part is a WAV file that cannot be played: ${why}`, 'invalid_audio');
      return { wav: bytes, kind: 'wav', sourceContentType: metadataSafe(declaredContentType) };
    }
    if (includes(WAV_TYPES, type)) throw new BadRequest(`the audio_recording part is declared ${type} but is not a RIFF/WAVE file`, 'invalid_audio');
  }
  throw new UnsupportedMediaType(`audio_recording has content type "${declaredContentType ?? 'none'}"; accepted: ${ACCEPTED}`);
}

/** The 58-byte header of a mono 8-bit µ-law WAV file holding `dataBytes` bytes. */
export function mulawWavHeader(dataBytes: number, sampleRate = DEFAULT_RATE): Buffer {
  const pad = dataBytes % 2;
  const h = Buffer.alloc(MULAW_HEADER_BYTES);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(MULAW_HEADER_BYTES - 8 + dataBytes + pad, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(18, 16); // fmt chunk size: WAVEFORMATEX with cbSize
  h.writeUInt16LE(WAVE_FORMAT_MULAW, 20);
  h.writeUInt16LE(1, 22); // channels
  h.writeUInt32LE(sampleRate, 24);
  h.writeUInt32LE(sampleRate, 28); // byte rate: 1 byte per sample, mono
  h.writeUInt16LE(1, 32); // block align
  h.writeUInt16LE(8, 34); // bits per sample
  h.writeUInt16LE(0, 36); // cbSize
  h.write('fact', 38, 'latin1');
  h.writeUInt32LE(4, 42);
  h.writeUInt32LE(dataBytes, 46); // samples per channel
  h.write('data', 50, 'latin1');
  h.writeUInt32LE(dataBytes, 54);
  return h;
}

/** Header + received bytes (+ pad byte when odd), in one allocation and one copy. */
export function wrapMulaw(data: Uint8Array, sampleRate = DEFAULT_RATE): Buffer {
  const pad = data.length % 2;
  const out = Buffer.allocUnsafe(MULAW_HEADER_BYTES + data.length + pad);
  mulawWavHeader(data.length, sampleRate).copy(out, 0);
  out.set(data, MULAW_HEADER_BYTES);
  if (pad) out[out.length - 1] = 0;
  return out;
}
