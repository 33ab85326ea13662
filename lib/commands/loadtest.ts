import '../quiet-sdk.ts';
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import { startEmbeddedStorage, sdkEnvironment, ensureBucketAndTable } from '../embedded.ts';
import { requestTarget, type OutgoingRequest } from '../requests.ts';
import { inspector } from '../inspect.ts';
import { sampleEnvironment, mixedDelivery, handlerNameOf, shuffle, pool, type Delivery } from '../traffic.ts';
import { HANDLER_NAMES, SOURCES } from '#shared/sources';
import { setLogSink } from '#shared/log';
import { createLocalServer } from '../local-server.ts';
import { reindex } from '../reindex/core.ts';

/**
 * npm run loadtest [-- --requests 2000 --concurrency 25 --duplicates 0.1]
 *
 * A bounded load test of the whole local stack over loopback: the local HTTP
 * server (API Gateway's event format) → the real handlers → embedded s3rver +
 * dynalite, fresh in a temporary directory. Every registered source in turn
 * (watsonx recordings of 5–30 s, i.e. 40–240 KB of µ-law; Engage Voice in its
 * JSON/form/GET shapes) plus re-sent duplicates. A 503 (storage past its
 * deadline: "retry") is sent again as a retrying vendor would, and counted
 * (`unavailable`, per source: Vapi does not retry, so its count is what a real
 * Vapi would not resend). Then every 2xx is checked in storage (index item and
 * every object it points at): records lost must be 0, final 5xx must be 0.
 * Prints throughput and latency percentiles (per HTTP request) as JSON.
 */

export interface LoadOptions {
  requests: number;
  concurrency: number;
  /** Share of requests that re-send an earlier one (a vendor retry). */
  duplicates: number;
  /** watsonx recording length range, seconds. */
  audioSeconds: [number, number];
  quiet?: boolean;
}

export interface LoadReport {
  requests: number;
  unique: number;
  /** Unique deliveries per source. */
  bySource: Record<string, number>;
  concurrency: number;
  seconds: number;
  throughputPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** Final answer per delivery (after resends). */
  status: Record<string, number>;
  outcomes: Record<string, number>;
  /** 503 answers that were sent again, by source. */
  unavailable: Record<string, number>;
  /** Requests sent before the measured run to load each handler once (unique deliveries, re-sent in the run). */
  warmUp: number;
  bodyBytes: number;
  serverErrors: number;
  /** 2xx deliveries whose index item or raw archive is missing (after the reindex an `archived` answer asks for). */
  lost: number;
  /** `archived` answers (watsonx: index write past its deadline) made the run reindex before checking. */
  reindexed: boolean;
  /**
   * Unique events whose answers break the labelling rule: told `stored` more
   * than once, or never told `stored` (nor `archived`) although no 503 came
   * first (a 503 may answer a write that landed; its resend is then a duplicate).
   */
  mislabelled: number;
}

function send(agent: Agent, base: URL, r: OutgoingRequest): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({
      agent, host: base.hostname, port: base.port, method: r.method, path: requestTarget(r),
      headers: Object.fromEntries([...r.headers, ...(r.body ? [['content-length', String(r.body.length)]] : [])]),
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

/** Resends after a 503 before the last answer counts (a vendor's retry budget). */
const MAX_TRIES = 10;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! * 10) / 10;
}

export async function runLoad(opts: LoadOptions): Promise<LoadReport> {
  const storage = await startEmbeddedStorage();
  const bucketName = 'voice-webhooks-loadtest';
  const tableName = 'voice-webhooks-loadtest';
  await ensureBucketAndTable(storage, bucketName, tableName);
  const secrets = sampleEnvironment();
  Object.assign(process.env, secrets, sdkEnvironment(storage), { BUCKET_NAME: bucketName, TABLE_NAME: tableName });
  const previousSink = setLogSink(() => undefined);
  const server = await createLocalServer({ host: '127.0.0.1', port: 0, log: () => undefined });
  const look = inspector(storage, bucketName, tableName);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency });
  try {
    const uniqueCount = Math.round(opts.requests * (1 - opts.duplicates));
    const uniques: Delivery[] = [];
    const [lo, hi] = opts.audioSeconds;
    for (let i = 0; i < uniqueCount; i++) uniques.push(await mixedDelivery(secrets, i, lo + ((i * 7919) % (hi - lo + 1))));
    const dups = Array.from({ length: opts.requests - uniqueCount }, (_, k) => uniques[(k * 31) % uniqueCount]!);
    const all = shuffle([...uniques, ...dups], 2026);
    const bodyBytes = all.reduce((n, d) => n + (d.request.body?.length ?? 0), 0);

    // Warm-up: load each handler module once, outside the measurement.
    const warmUp = HANDLER_NAMES.map((h) => uniques.find((d) => handlerNameOf(d.source) === h)).filter((d) => d !== undefined);
    const answers = new Map<Delivery, { outcomes: string[]; unavailable: number }>(uniques.map((d) => [d, { outcomes: [], unavailable: 0 }]));
    const outcomeOf = (body: string) => {
      const outcome = (JSON.parse(body) as { outcome?: unknown }).outcome;
      return typeof outcome === 'string' ? outcome : 'unknown';
    };
    await pool(warmUp, warmUp.length, async (d) => {
      const res = await send(agent, new URL(server.url), d.request);
      if (res.status >= 200 && res.status < 300) answers.get(d)?.outcomes.push(outcomeOf(res.body));
    });

    const base = new URL(server.url);
    const latencies: number[] = [];
    const status: Record<string, number> = {};
    const outcomes: Record<string, number> = {};
    const unavailable: Record<string, number> = {};
    const accepted = new Set<Delivery>();
    const t0 = performance.now();
    await pool(all, opts.concurrency, async (d, i) => {
      let res: { status: number; body: string };
      for (let tries = 1; ; tries++) {
        const s = performance.now();
        res = await send(agent, base, d.request);
        latencies.push(performance.now() - s);
        if (res.status !== 503 || tries >= MAX_TRIES) break;
        unavailable[d.source] = (unavailable[d.source] ?? 0) + 1;
        answers.get(d)!.unavailable += 1;
      }
      status[res.status] = (status[res.status] ?? 0) + 1;
      if (res.status >= 200 && res.status < 300) {
        accepted.add(d);
        const key = outcomeOf(res.body);
        outcomes[key] = (outcomes[key] ?? 0) + 1;
        answers.get(d)!.outcomes.push(key);
      }
      if (!opts.quiet && (i + 1) % 500 === 0) process.stderr.write(`  ${i + 1}/${all.length}\n`);
    });
    const seconds = (performance.now() - t0) / 1000;

    // An `archived` answer says the bytes are safe and the index needs a reindex: run it, as the operator would.
    const reindexed = (outcomes.archived ?? 0) > 0;
    if (reindexed) {
      const repair = await reindex({
        s3: look.s3, bucketName, tableName,
        settings: { engageTimeZone: secrets.ENGAGE_VOICE_TIMEZONE ?? 'UTC', defaultPhoneRegion: secrets.DEFAULT_PHONE_REGION ?? 'US' },
      });
      if (repair.failed.length > 0) throw new Error(`reindex failed for ${repair.failed.length} archived objects`);
    }
    const mislabelled = [...answers.values()].filter(({ outcomes: told, unavailable: lied }) => {
      const stored = told.filter((o) => o === 'stored').length;
      const known = told.every((o) => o === 'stored' || o === 'duplicate' || o === 'archived');
      return !known || stored > 1 || (stored === 0 && !told.includes('archived') && lied === 0);
    }).length;

    // Zero loss: every accepted delivery has its index item, and every object the item points at
    // (raw archive, watsonx audio) is in S3.
    const byPk = new Map<string, Record<string, unknown>[]>();
    for (const it of await look.scanAll()) byPk.set(String(it.PK), [...(byPk.get(String(it.PK)) ?? []), it]);
    const lostFlags = await pool([...accepted], opts.concurrency, async (d) => {
      const items = byPk.get(`CALL#${d.source}#${d.callId}`) ?? [];
      if (items.length === 0) return true;
      for (const it of items) {
        const record = it.record as { rawS3Key?: unknown; recordings?: { s3Key?: unknown }[] };
        const keys = [record.rawS3Key, ...(record.recordings ?? []).map((r) => r.s3Key)].filter((k): k is string => typeof k === 'string');
        for (const k of keys) if (!(await look.exists(k))) return true;
      }
      return false;
    });
    const lost = lostFlags.filter(Boolean).length;
    latencies.sort((a, b) => a - b);
    return {
      requests: all.length,
      unique: uniqueCount,
      bySource: Object.fromEntries(SOURCES.map((src) => [src, uniques.filter((d) => d.source === src).length])),
      concurrency: opts.concurrency,
      seconds: Math.round(seconds * 100) / 100,
      throughputPerSec: Math.round(all.length / seconds),
      latencyMs: { p50: percentile(latencies, 0.5), p90: percentile(latencies, 0.9), p99: percentile(latencies, 0.99), max: percentile(latencies, 1) },
      status,
      outcomes,
      unavailable,
      warmUp: warmUp.length,
      reindexed,
      mislabelled,
      bodyBytes,
      serverErrors: Object.entries(status).filter(([s]) => Number(s) >= 500).reduce((n, [, c]) => n + c, 0),
      lost,
    };
  } finally {
    agent.destroy();
    look.destroy();
    await server.close();
    await storage.stop();
    setLogSink(previousSink);
  }
}

async function run(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      requests: { type: 'string', default: '2000' },
      concurrency: { type: 'string', default: '25' },
      duplicates: { type: 'string', default: '0.1' },
    },
  });
  const opts: LoadOptions = {
    requests: Number(values.requests),
    concurrency: Number(values.concurrency),
    duplicates: Number(values.duplicates),
    audioSeconds: [5, 30],
  };
  if (!(opts.requests > 0 && opts.requests <= 100_000 && opts.concurrency > 0 && opts.concurrency <= 200 && opts.duplicates >= 0 && opts.duplicates < 1)) {
    console.error('usage: npm run loadtest [-- --requests 1..100000] [--concurrency 1..200] [--duplicates 0..0.99]');
    return 2;
  }
  console.error(`load test: ${opts.requests} requests, ${opts.concurrency} concurrent, ${opts.duplicates * 100}% duplicates, loopback only`);
  const report = await runLoad(opts);
  console.log(JSON.stringify(report, null, 2));
  return report.lost === 0 && report.serverErrors === 0 && report.mislabelled === 0 ? 0 : 1;
}

/** `npm run loadtest` (scripts/loadtest.ts): the exit code; a failure is one line on stderr. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (err) {
    process.stderr.write(`load test failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    return 1;
  }
}
