import { sniffAudio } from '../../functions/recordings/sniff.ts';

/**
 * Audio as a playable file. watsonx recordings are stored as WAV already
 * (the stored form of every recording); anything else we hold as raw 8 kHz µ-law is wrapped
 * in a 44-byte header (format tag 7, G.711 µ-law, mono) with the bytes unchanged.
 */

export function isWav(bytes: Uint8Array): boolean {
  return bytes.length >= 12
    && Buffer.from(bytes.subarray(0, 4)).toString('latin1') === 'RIFF'
    && Buffer.from(bytes.subarray(8, 12)).toString('latin1') === 'WAVE';
}

export function mulawToWav(data: Uint8Array, sampleRate = 8000): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8, 'latin1');
  header.write('fmt ', 12, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(7, 20); // WAVE_FORMAT_MULAW
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate, 28); // one byte per sample
  header.writeUInt16LE(1, 32);
  header.writeUInt16LE(8, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

/** The rate of a `audio/mulaw;rate=8000`-style content type, when it is raw µ-law. */
export function mulawRate(contentType: string | undefined): number | undefined {
  if (!contentType) return undefined;
  const [type = '', ...params] = contentType.toLowerCase().split(';').map((s) => s.trim());
  if (!['audio/mulaw', 'audio/basic', 'audio/x-mulaw', 'audio/pcmu'].includes(type)) return undefined;
  const rate = params.map((p) => /^rate=(\d{4,6})$/.exec(p)?.[1]).find((r) => r !== undefined);
  return rate ? Number(rate) : 8000;
}

/** Playable audio for an object in our bucket: a WAV as is (or made from raw µ-law), else the audio the bytes are (a vendor's MP3, Ogg…), unchanged. */
export function playableAudio(bytes: Uint8Array, contentType: string | undefined): { bytes: Buffer; contentType: string; extension: string } | undefined {
  const wav = asWav(bytes, contentType);
  if (wav) return { bytes: wav, contentType: 'audio/wav', extension: 'wav' };
  const type = sniffAudio(bytes);
  return type ? { bytes: Buffer.from(bytes), ...type } : undefined;
}

/** Playable WAV bytes for an object in our bucket, or undefined when we cannot make it one. */
export function asWav(bytes: Uint8Array, contentType: string | undefined): Buffer | undefined {
  if (isWav(bytes)) return Buffer.from(bytes);
  const rate = mulawRate(contentType);
  return rate === undefined ? undefined : mulawToWav(bytes, rate);
}
