/**
 * CPU profile of the warm audio-webhook hot path (storage excluded, as in
 * bench/hot.ts): `npx tsx bench/profile.ts [seconds-of-audio]`. Prints the
 * functions with the most self time and writes the .cpuprofile (open it in
 * Chrome DevTools) to a temporary directory.
 */
import '../lib/quiet-sdk.ts';
import { Session } from 'node:inspector/promises';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { audioHandlerForTiming } from './hot.ts';
import { mulawAudio, watsonxEvent, MULAW_BYTES_PER_SECOND } from './lib/events.ts';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }

export function selfTimeTop(nodes: ProfileNode[], samples: number, top: number): { name: string; share: number }[] {
  const byName = new Map<string, number>();
  let total = 0;
  for (const n of nodes) {
    const hits = n.hitCount ?? 0;
    total += hits;
    const url = n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/work\/main\//, '');
    const key = `${n.callFrame.functionName || '(anonymous)'} ${url}:${n.callFrame.lineNumber + 1}`;
    byName.set(key, (byName.get(key) ?? 0) + hits);
  }
  const denom = total || samples || 1;
  return [...byName].map(([name, hits]) => ({ name, share: hits / denom })).sort((a, b) => b.share - a.share).slice(0, top);
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 30);
  const handler = await audioHandlerForTiming();
  const event = await watsonxEvent({ audio: mulawAudio(seconds * MULAW_BYTES_PER_SECOND) });
  for (let i = 0; i < 50; i++) await handler(event);
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < 3000) { await handler(event); n += 1; }
  const { profile } = await session.post('Profiler.stop');
  const dir = mkdtempSync(join(tmpdir(), 'voice-webhooks-profile-'));
  const file = join(dir, 'audio-webhook.cpuprofile');
  writeFileSync(file, JSON.stringify(profile));
  console.log(`${n} requests, ${((performance.now() - t0) / n).toFixed(3)} ms each (profiler on); profile: ${file}`);
  for (const { name, share } of selfTimeTop(profile.nodes, profile.samples?.length ?? 0, 15)) console.log(`${(share * 100).toFixed(1).padStart(5)}%  ${name}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
