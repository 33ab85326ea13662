/**
 * Experiment behind functions/audio-webhook/jwt.ts: what verifying one HS256
 * JWT costs with jose (WebCrypto: importKey every call, or a cached CryptoKey)
 * and with node:crypto's HMAC, synchronous. `npx tsx bench/experiments/jwt-verify.ts`
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { jwtVerify } from 'jose';
import { timeSideBySide } from '../lib/timing.ts';
import { fmtMs } from '../lib/stats.ts';
import { BENCH_SECRETS, watsonxJwt } from '../lib/events.ts';

async function main(): Promise<void> {
  const token = await watsonxJwt();
  const secret = BENCH_SECRETS.WATSONX_AUDIO_SECRET;
  const bytes = new TextEncoder().encode(secret);
  const key = await crypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  const opts = { algorithms: ['HS256', 'HS384', 'HS512'], clockTolerance: 30 };
  const cpu = new Map<string, number>();
  const subject = (name: string, run: () => unknown) => ({ name, run: async () => { const c0 = process.cpuUsage(); await run(); const c = process.cpuUsage(c0); cpu.set(name, (cpu.get(name) ?? 0) + c.user + c.system); } });
  const timed = await timeSideBySide([
    subject('jose, Uint8Array key (importKey per call)', () => jwtVerify(token, bytes, opts)),
    subject('jose, cached CryptoKey', () => jwtVerify(token, key, opts)),
    subject('node:crypto HMAC, sync', () => {
      const dot = token.lastIndexOf('.');
      const mac = createHmac('sha256', secret).update(token.slice(0, dot)).digest();
      const sig = Buffer.from(token.slice(dot + 1), 'base64url');
      if (sig.length !== mac.length || !timingSafeEqual(sig, mac)) throw new Error('bad');
      return JSON.parse(Buffer.from(token.slice(token.indexOf('.') + 1, dot), 'base64url').toString('utf8'));
    }),
  ], { batch: 500, rounds: 11, warmup: 200 });
  const n = 500 * 11 + 200;
  for (const t of timed) console.log(t.name.padEnd(44), fmtMs(t.ms).padStart(10), 'wall;', fmtMs((cpu.get(t.name) ?? 0) / 1000 / n).padStart(10), 'cpu');
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
