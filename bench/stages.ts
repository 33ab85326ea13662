/**
 * The audio-webhook hot path split into its stages, each timed on its own,
 * side by side with the floor, in CPU time and wall time:
 * `npx tsx bench/stages.ts [seconds-of-audio]`. Tells where the handler's time
 * beyond the floor goes (the profile's self times are spread too thin to say).
 */
import '../lib/quiet-sdk.ts';
import { createHash } from 'node:crypto';
import { decodeEvent } from '#shared/request';
import { sha256Hex } from '#shared/storage';
import { verifyJwt } from '../functions/audio-webhook/jwt.ts';
import { parseMultipart } from '../functions/audio-webhook/multipart.ts';
import { parseMetadata } from '../functions/audio-webhook/metadata.ts';
import { prepareAudio } from '../functions/audio-webhook/wav.ts';
import { audioHandlerForTiming, floorOf } from './hot.ts';
import { BENCH_SECRETS, mulawAudio, watsonxEventWithJwt, watsonxJwt, MULAW_BYTES_PER_SECOND } from './lib/events.ts';
import { timeSideBySide, type Subject } from './lib/timing.ts';
import { fmtMs, fmtRatio } from './lib/stats.ts';

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 30);
  const handler = await audioHandlerForTiming();
  const jwt = await watsonxJwt();
  const audio = mulawAudio(seconds * MULAW_BYTES_PER_SECOND);
  const event = watsonxEventWithJwt({ audio }, jwt);
  const req = decodeEvent(event);
  const ct = req.headers['content-type'] ?? '';
  const parts = await parseMultipart(req.body, ct);
  const secret = BENCH_SECRETS.WATSONX_AUDIO_SECRET;
  const cpu = new Map<string, number>();
  const wrap = (name: string, run: () => unknown): Subject => ({
    name,
    run: async () => {
      const c0 = process.cpuUsage();
      await run();
      const c = process.cpuUsage(c0);
      cpu.set(name, (cpu.get(name) ?? 0) + (c.user + c.system) / 1000);
    },
  });
  const counts = new Map<string, number>();
  const subjects: Subject[] = [
    wrap('whole handler', () => handler(event)),
    wrap('floor', floorOf(event.body ?? '')),
    wrap('decodeEvent', () => decodeEvent(event)),
    wrap('verifyJwt', () => verifyJwt(req.headers.authorization, secret)),
    wrap('parseMultipart', () => parseMultipart(req.body, ct)),
    wrap('parseMetadata', () => parseMetadata(parts.metadata.bytes)),
    wrap('prepareAudio (WAV wrap)', () => prepareAudio(parts.audio.bytes, parts.audio.contentType)),
    wrap('sha256 audio', () => sha256Hex(parts.audio.bytes)),
    wrap('base64 decode only', () => Buffer.from(event.body ?? '', 'base64')),
    wrap('sha256 only (digest)', () => createHash('sha256').update(parts.audio.bytes).digest()),
  ].map((s) => ({ name: s.name, run: () => { counts.set(s.name, (counts.get(s.name) ?? 0) + 1); return s.run(); } }));
  const timed = await timeSideBySide(subjects, { batch: seconds > 60 ? 10 : 60, rounds: 11, warmup: 30 });
  const floor = timed.find((t) => t.name === 'floor')?.ms ?? Number.NaN;
  console.log(`${seconds} s of µ-law, body ${req.body.length} bytes`);
  console.log('stage'.padEnd(26), 'wall'.padStart(10), '÷ floor'.padStart(8), 'cpu/op'.padStart(10));
  for (const t of timed) {
    const n = counts.get(t.name) ?? 1;
    console.log(t.name.padEnd(26), fmtMs(t.ms).padStart(10), fmtRatio(t.ms / floor).padStart(8), fmtMs((cpu.get(t.name) ?? 0) / n).padStart(10));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
