import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { runChild } from './cold.ts';
import { median } from './lib/stats.ts';

/**
 * Peak resident memory while the bundled audio-webhook handles the largest
 * recording it accepts, against the real embedded storage (which runs in the
 * parent process, so its memory is not counted). "Idle" is the same process
 * with the handler loaded and warm and the event already parsed, as the
 * Lambda runtime hands it over; the growth above it is what handling costs.
 */

export interface MemoryResult {
  bodyBytes: number;
  audioBytes: number;
  beforeEventRss: number;
  idleRss: number;
  peakRss: number;
  /** (peak − idle) / body bytes. */
  multiple: number;
  /** (peak − RSS before the event was read) / body bytes: includes the runtime's event copies. */
  multipleWithEvent: number;
  statusCode: number;
  hwmReset: boolean;
  runs: number;
}

const CHILD = new URL('./memory-child.mjs', import.meta.url).pathname;

function num(o: object, k: string): number {
  const v: unknown = Reflect.get(o, k);
  if (typeof v !== 'number') throw new Error(`memory result lacks ${k}`);
  return v;
}

export async function peakMemory(opts: {
  bundleFile: string; warm: APIGatewayProxyEventV2; big: (run: number) => APIGatewayProxyEventV2;
  bodyBytes: number; audioBytes: number; env: Record<string, string>; workDir: string; runs: number; nodeArgs?: string[];
}): Promise<MemoryResult> {
  const warmFile = join(opts.workDir, 'memory-warm.json');
  writeFileSync(warmFile, JSON.stringify(opts.warm));
  const samples: { before: number; idle: number; peak: number; status: number; reset: boolean }[] = [];
  for (let r = 0; r < opts.runs; r++) {
    const bigFile = join(opts.workDir, 'memory-big.json');
    writeFileSync(bigFile, JSON.stringify(opts.big(r)));
    const out = await runChild(CHILD, [opts.bundleFile, warmFile, bigFile], opts.env, ['--expose-gc', ...(opts.nodeArgs ?? [])]);
    const line = out.stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
    if (out.code !== 0 || !line) throw new Error(`memory child failed (${out.code}): ${out.stderr.slice(-2000)}`);
    const parsed: unknown = JSON.parse(line.slice('BENCH_RESULT '.length));
    if (typeof parsed !== 'object' || parsed === null) throw new Error('malformed memory result');
    samples.push({
      before: num(parsed, 'beforeEventRss'), idle: num(parsed, 'idleRss'), peak: num(parsed, 'peakRss'),
      status: num(parsed, 'statusCode'), reset: Reflect.get(parsed, 'hwmReset') === true,
    });
  }
  const idleRss = median(samples.map((s) => s.idle));
  const peakRss = median(samples.map((s) => s.peak));
  const beforeEventRss = median(samples.map((s) => s.before));
  return {
    bodyBytes: opts.bodyBytes,
    audioBytes: opts.audioBytes,
    beforeEventRss, idleRss, peakRss,
    multiple: median(samples.map((s) => (s.peak - s.idle) / opts.bodyBytes)),
    multipleWithEvent: median(samples.map((s) => (s.peak - s.before) / opts.bodyBytes)),
    statusCode: samples[0]?.status ?? 0,
    hwmReset: samples.every((s) => s.reset),
    runs: samples.length,
  };
}
