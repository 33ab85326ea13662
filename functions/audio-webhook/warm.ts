import { createHmac, randomBytes } from 'node:crypto';
import { sha256Hex } from '#shared/keys';
import { verifyJwt } from './jwt.ts';
import { AUDIO_PART, METADATA_PART, parseMultipart } from './multipart.ts';
import { audioIdOf, parseMetadata } from './metadata.ts';
import { prepareAudio } from './wav.ts';

/**
 * The audio path once during init (shared/warm.ts), on a request made here:
 * a JWT signed with a throwaway key, a two-part body with 20 ms of µ-law
 * silence. The first caller then finds jose's HMAC path, the multipart parser and the WAV
 * writer compiled. Nothing is stored; the metadata (`{}`) is refused last.
 */
export async function warmAudioPath(): Promise<void> {
  const secret = randomBytes(32).toString('base64url');
  const segment = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const signed = `${segment({ alg: 'HS256', typ: 'JWT' })}.${segment({ exp: Math.floor(Date.now() / 1000) + 60 })}`;
  await verifyJwt(`Bearer ${signed}.${createHmac('sha256', secret).update(signed).digest('base64url')}`, secret);

  const boundary = 'warm-up';
  const part = (name: string, type: string, bytes: Buffer) => Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\nContent-Type: ${type}\r\n\r\n`), bytes, Buffer.from('\r\n'),
  ]);
  const body = Buffer.concat([
    part(METADATA_PART, 'application/json', Buffer.from('{}')),
    part(AUDIO_PART, 'audio/basic; rate=8000', Buffer.alloc(160, 0xff)),
    Buffer.from(`--${boundary}--\r\n`),
  ]);
  const parts = parseMultipart(body, boundary);
  prepareAudio(parts.audio.bytes, parts.audio.contentType);
  sha256Hex(parts.audio.bytes);
  audioIdOf(parts.audio.bytes, parts.audio.contentType);
  parseMetadata(parts.metadata.bytes);
}
