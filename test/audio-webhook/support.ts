import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { toApiGatewayEvent } from '../../lib/api-gateway.ts';

/** Test helpers for the watsonx audio webhook: µ-law audio, multipart bodies, JWTs, API Gateway events. */

export const TEST_SECRET = 'test-watsonx-audio-secret-0123456789abcdef';

/** G.711 µ-law encoder (ITU-T G.711, with the standard bias of 0x84 and clip at 32635). */
export function linearToMulaw(sample: number): number {
  const BIAS = 0x84;
  const CLIP = 32635;
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent -= 1;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** A sine sweep from f0 to f1 Hz, as 8 kHz µ-law bytes. */
export function mulawSweep(seconds: number, f0 = 300, f1 = 3000, rate = 8000): Buffer {
  const n = Math.round(seconds * rate);
  const out = Buffer.alloc(n);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const f = f0 + ((f1 - f0) * i) / n;
    phase += (2 * Math.PI * f) / rate;
    const envelope = Math.min(1, i / 400, (n - i) / 400);
    out[i] = linearToMulaw(12000 * envelope * Math.sin(phase));
  }
  return out;
}

export interface PartSpec {
  name: string;
  body: Uint8Array | string;
  contentType?: string;
  filename?: string;
}

export function multipart(parts: PartSpec[], boundary = `----watsonx${randomUUID().replaceAll('-', '')}`): { body: Buffer; contentType: string } {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"`;
    if (p.filename !== undefined) head += `; filename="${p.filename}"`;
    head += '\r\n';
    if (p.contentType !== undefined) head += `Content-Type: ${p.contentType}\r\n`;
    chunks.push(Buffer.from(head + '\r\n', 'latin1'), Buffer.from(p.body), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

export function metadataFor(sessionId: string, recordingId: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    assistant_id: '0f2b5c4e-8a51-4d6b-9f39-6a7c2e1d4b10',
    environment_id: 'a7d3e8f1-2c4b-4e9a-b6d5-3f1e0c9a8b72',
    session_id: sessionId,
    recording_id: recordingId,
    start_timestamp: '2026-11-20T10:15:02.123Z',
    stop_timestamp: '2026-11-20T10:15:05.123Z',
    ...extra,
  });
}

export async function signJwt(secret = TEST_SECRET, alg: 'HS256' | 'HS384' | 'HS512' = 'HS256', claims: { exp?: number; nbf?: number } = {}): Promise<string> {
  const jwt = new SignJWT({}).setProtectedHeader({ alg, typ: 'JWT' }).setIssuedAt();
  if (claims.exp !== undefined) jwt.setExpirationTime(claims.exp);
  if (claims.nbf !== undefined) jwt.setNotBefore(claims.nbf);
  return jwt.sign(new TextEncoder().encode(secret));
}

export function apiEvent(opts: { body: Buffer; contentType?: string; authorization?: string; method?: string }): APIGatewayProxyEventV2 {
  const headers: [string, string][] = [['host', '127.0.0.1:3000'], ['user-agent', 'watsonx-test']];
  if (opts.contentType !== undefined) headers.push(['content-type', opts.contentType]);
  if (opts.authorization !== undefined) headers.push(['authorization', opts.authorization]);
  return toApiGatewayEvent({ method: opts.method ?? 'POST', target: '/audio-webhook', headers, body: opts.body });
}

/** A minimal 16-bit PCM WAV, as a desktop test client would upload. */
export function pcmWav(seconds: number, rate = 8000): Buffer {
  const n = Math.round(seconds * rate);
  const data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) data.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), i * 2);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1'); h.writeUInt32LE(36 + data.length, 4); h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1'); h.writeUInt32LE(16, 16); h.writeUInt16LE(1, 20); h.writeUInt16LE(1, 22);
  h.writeUInt32LE(rate, 24); h.writeUInt32LE(rate * 2, 28); h.writeUInt16LE(2, 32); h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1'); h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}
