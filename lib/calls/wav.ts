import { sniffAudio } from '../../functions/recordings/sniff.ts';
import { MULAW_TYPES, isWav, wrapMulaw } from '../../functions/audio-webhook/wav.ts';

export { isWav };

/**
 * Audio as a playable file. watsonx recordings are stored as WAV already
 * (the stored form of every recording); anything else we hold as raw µ-law is wrapped by the
 * same writer the audio webhook uses (functions/audio-webhook/wav.ts), bytes unchanged.
 */

/** The rate of a `audio/mulaw;rate=8000`-style content type, when it is raw µ-law. */
export function mulawRate(contentType: string | undefined): number | undefined {
  if (!contentType) return undefined;
  const [type = '', ...params] = contentType.toLowerCase().split(';').map((s) => s.trim());
  if (!(MULAW_TYPES as readonly string[]).includes(type)) return undefined;
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
  return rate === undefined ? undefined : wrapMulaw(bytes, rate);
}
