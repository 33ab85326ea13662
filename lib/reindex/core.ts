import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SOURCES, type CallRecord, type Source } from '#shared/model';
import { createStorage, createStorageClients, type Outcome } from '#shared/storage';
import { sha256Hex, rawKeyFor, callDay } from '#shared/keys';
import { listRawKeys, readRaw, interpretArchived, type Settings } from './archive.ts';

/**
 * Rebuild the DynamoDB index from the S3 archive. Every raw body is
 * re-interpreted with the handlers' interpreters and written with the same
 * conditional put the handlers use (newest version wins, equal digest is a
 * duplicate), so the run is idempotent, can be repeated or interrupted at any
 * point, and never replaces a newer item with an older one.
 */

export interface ReindexOptions {
  s3: S3Client;
  /** The index's client; default: one from the standard SDK environment. */
  ddb?: DynamoDBDocumentClient;
  bucketName: string;
  tableName: string;
  settings: Settings;
  sources?: readonly Source[];
  /** `yyyy-mm-dd`: only archive days (the call's UTC start day) from this one on. */
  since?: string;
  concurrency?: number;
  onProgress?: (done: number) => void;
}

export interface ReindexReport {
  scanned: number;
  outcomes: Record<Outcome, number>;
  /** Archived deliveries that are not calls (Vapi's other server messages): no index item. */
  notCalls: number;
  bySource: Record<string, number>;
  /** Raw objects whose key is not the one their interpretation gives (the normalizer changed since). */
  keyMismatches: string[];
  failed: { key: string; reason: string }[];
  ms: number;
}

export async function reindex(opts: ReindexOptions): Promise<ReindexReport> {
  const started = performance.now();
  const report: ReindexReport = {
    scanned: 0, outcomes: { stored: 0, duplicate: 0, stale: 0, archived: 0 }, notCalls: 0, bySource: {}, keyMismatches: [], failed: [], ms: 0,
  };
  const target = { bucketName: opts.bucketName, tableName: opts.tableName };
  const { putIndexFitted } = createStorage({ s3: opts.s3, ddb: opts.ddb ?? createStorageClients().ddb });

  const one = async (key: string): Promise<void> => {
    try {
      const raw = await readRaw(opts.s3, opts.bucketName, key);
      const read = await interpretArchived(opts.s3, opts.bucketName, raw, opts.settings);
      if (read === undefined) {
        report.notCalls += 1;
      } else {
        const { call, sk, version } = read;
        const digest = read.digest ?? sha256Hex(raw.bytes);
        const ext = key.slice(key.lastIndexOf('.') + 1);
        if (rawKeyFor(call.source, call.callId, callDay(call, raw.receivedAt), digest, ext) !== key) report.keyMismatches.push(key);
        const record: CallRecord = { ...call, rawS3Key: key, receivedAt: raw.receivedAt.toISOString() };
        const outcome = await putIndexFitted(target, record, sk, version, digest, opts.settings.retentionDays);
        report.outcomes[outcome] += 1;
        report.bySource[call.source] = (report.bySource[call.source] ?? 0) + 1;
      }
    } catch (err) {
      report.failed.push({ key, reason: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
    }
    report.scanned += 1;
    opts.onProgress?.(report.scanned);
  };

  const concurrency = Math.max(1, opts.concurrency ?? 8);
  for (const source of opts.sources ?? SOURCES) {
    const inflight = new Set<Promise<void>>();
    for await (const key of listRawKeys(opts.s3, opts.bucketName, source, opts.since)) {
      const p = one(key).finally(() => inflight.delete(p));
      inflight.add(p);
      if (inflight.size >= concurrency) await Promise.race(inflight);
    }
    await Promise.all(inflight);
  }
  report.ms = Math.round(performance.now() - started);
  return report;
}
