import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { median } from './lib/stats.ts';

/**
 * Cold starts: each run is a fresh `node` process that imports the bundled
 * handler (module-load time) and serves one event against the embedded S3 and
 * DynamoDB (first-response time). Runs are interleaved across bundles, so a
 * noisy moment hurts every bundle alike, and the first run of each bundle is
 * discarded (it writes where later runs find a duplicate; page cache warms).
 */

export interface ColdSubject {
  name: string;
  bundleFile: string;
  event: APIGatewayProxyEventV2;
}

export interface ColdRun {
  processToMainMs: number;
  loadMs: number;
  firstResponseMs: number;
  /** The same event served again by the same (now warm) process. */
  secondResponseMs?: number;
  wallMs: number;
  statusCode?: number;
  body?: string;
}

export interface ColdResult {
  name: string;
  runs: ColdRun[];
  loadMs: number;
  firstResponseMs: number;
  secondResponseMs: number;
  wallMs: number;
  statusCodes: number[];
  sampleBody?: string;
}

const CHILD = new URL('./cold-child.mjs', import.meta.url).pathname;

export function parseChildResult(stdout: string): Omit<ColdRun, 'wallMs'> {
  const line = stdout.split('\n').reverse().find((l) => l.startsWith('BENCH_RESULT '));
  if (!line) throw new Error(`cold-start child printed no result:\n${stdout.slice(-2000)}`);
  const parsed: unknown = JSON.parse(line.slice('BENCH_RESULT '.length));
  if (typeof parsed !== 'object' || parsed === null) throw new Error('malformed cold-start result');
  const num = (k: string) => {
    const v: unknown = Reflect.get(parsed, k);
    if (typeof v !== 'number') throw new Error(`cold-start result lacks ${k}`);
    return v;
  };
  const status: unknown = Reflect.get(parsed, 'statusCode');
  const second: unknown = Reflect.get(parsed, 'secondResponseMs');
  const body: unknown = Reflect.get(parsed, 'body');
  return {
    processToMainMs: num('processToMainMs'),
    loadMs: num('loadMs'),
    firstResponseMs: num('firstResponseMs'),
    ...(typeof second === 'number' ? { secondResponseMs: second } : {}),
    ...(typeof status === 'number' ? { statusCode: status } : {}),
    ...(typeof body === 'string' ? { body } : {}),
  };
}

export function runChild(script: string, args: string[], env: Record<string, string>, nodeArgs: string[] = []): Promise<{ stdout: string; stderr: string; wallMs: number; code: number | null }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout, stderr, wallMs: performance.now() - started, code }));
  });
}

export async function coldStarts(subjects: ColdSubject[], runs: number, env: Record<string, string>, workDir: string, nodeArgs: string[] = []): Promise<ColdResult[]> {
  const eventFiles = subjects.map((s, i) => {
    const f = join(workDir, `cold-event-${i}.json`);
    writeFileSync(f, JSON.stringify(s.event));
    return f;
  });
  const results: ColdRun[][] = subjects.map(() => []);
  for (let r = 0; r <= runs; r++) {
    for (const [i, s] of subjects.entries()) {
      const out = await runChild(CHILD, [s.bundleFile, eventFiles[i] ?? ''], env, nodeArgs);
      if (out.code !== 0) throw new Error(`cold start of ${s.name} exited ${out.code}: ${out.stderr.slice(-2000)}`);
      const run = { ...parseChildResult(out.stdout), wallMs: out.wallMs };
      if (r > 0) results[i]?.push(run);
    }
  }
  return subjects.map((s, i) => {
    const rs = results[i] ?? [];
    return {
      name: s.name,
      runs: rs,
      loadMs: median(rs.map((x) => x.loadMs)),
      firstResponseMs: median(rs.map((x) => x.firstResponseMs)),
      secondResponseMs: median(rs.map((x) => x.secondResponseMs ?? Number.NaN)),
      wallMs: median(rs.map((x) => x.wallMs)),
      statusCodes: [...new Set(rs.map((x) => x.statusCode ?? 0))],
      ...(rs[0]?.body !== undefined ? { sampleBody: rs[0].body } : {}),
    };
  });
}
