import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as v from 'valibot';
import { SOURCES } from '#shared/model';
import type { RecordingMessage } from '#shared/recording-queue';
import { type Logger, MetricUnit, errorFields } from '#shared/log';
import { archiveRecording, recordFailure, type ArchiveDeps } from './archive.ts';
import { FetchError } from './fetch.ts';

/**
 * One SQS batch (Lambda event source, ReportBatchItemFailures): each message is
 * one recording, handled one after another so a burst does not hammer a vendor.
 *
 * - copied (or already copied): acknowledged, counted `RecordingArchived`;
 * - a permanent failure (refused address or scheme, over the cap, no URL):
 *   marked `failed` with the reason, counted, acknowledged (retrying cannot help);
 * - any other failure: marked `retrying`, the message's visibility set to the
 *   next backoff delay, and reported as a batch item failure; on the last
 *   attempt it is marked `failed`, counted, and made visible at once so SQS
 *   moves it to the dead-letter queue (whose depth alarms).
 */

export interface WorkerDeps extends ArchiveDeps {
  /** Seconds before each retry; the message has `retryDelays.length + 1` attempts (the queue's maxReceiveCount). */
  retryDelays: readonly number[];
  /** Backoff: the message becomes visible again after `seconds`. */
  delay: (receiptHandle: string, seconds: number) => Promise<void>;
  log: Logger;
}

const Message = v.object({
  source: v.picklist(SOURCES),
  callId: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
  sk: v.pipe(v.string(), v.minLength(1), v.maxLength(300)),
  recordingId: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
});

/** How long a message that found no index item waits before its second look. */
export const INDEX_SETTLE_SECONDS = 5;

function parseMessage(body: string): RecordingMessage | undefined {
  try {
    const parsed = v.safeParse(Message, JSON.parse(body));
    return parsed.success ? parsed.output : undefined;
  } catch {
    return undefined;
  }
}

function reasonOf(err: unknown): { reason: string; permanent: boolean } {
  if (err instanceof FetchError) return { reason: err.reason, permanent: err.permanent };
  if (typeof err === 'object' && err !== null && '$metadata' in err) return { reason: 'storage_error', permanent: false };
  return { reason: 'internal_error', permanent: false };
}

async function handleOne(record: SQSRecord, w: WorkerDeps): Promise<boolean> {
  const m = parseMessage(record.body);
  // Correlation id = the SQS message id: every attempt at one recording shares it.
  const log = w.log.child({ correlation_id: record.messageId });
  if (!m) {
    log.error('recording message is malformed; left for the dead-letter queue');
    return false;
  }
  const attempt = Number(record.attributes.ApproximateReceiveCount) || 1;
  const rlog = log.child({ source: m.source, callId: m.callId, recordingId: m.recordingId, attempt });
  const started = Date.now();
  try {
    const result = await archiveRecording(w, m);
    if (result.kind === 'archived') {
      rlog.metric('RecordingArchived', [{ Source: m.source }, {}]);
      rlog.metric('RecordingBytes', { Source: m.source }, result.bytes, MetricUnit.Bytes);
      rlog.info('recording archived', { s3Key: result.s3Key, bytes: result.bytes, contentType: result.contentType, adopted: result.adopted, ms: Date.now() - started });
    } else if (result.kind === 'gone' && attempt === 1) {
      // Queued beside the index write (shared/recording-queue.ts): the item may not be written yet. Look once more,
      // after the longest an index write takes (three attempts of at most 1 s, shared/storage.ts).
      const seconds = Math.min(INDEX_SETTLE_SECONDS, w.retryDelays[0] ?? INDEX_SETTLE_SECONDS);
      rlog.info('recording not in the index yet; looking again', { why: result.why, seconds });
      await w.delay(record.receiptHandle, seconds).catch((e: unknown) => rlog.error('could not set the retry delay', errorFields(e)));
      return false;
    } else {
      rlog.info(result.kind === 'already' ? 'recording already archived' : 'recording no longer in the index', result.kind === 'gone' ? { why: result.why } : {});
    }
    return true;
  } catch (err) {
    const { reason, permanent } = reasonOf(err);
    const last = permanent || attempt > w.retryDelays.length;
    const status = last ? 'failed' : 'retrying';
    rlog.warn(last ? 'recording failed' : 'recording attempt failed, will retry', { reason, permanent, ...errorFields(err), ms: Date.now() - started });
    await recordFailure(w, m, status, reason, attempt).catch((e: unknown) => rlog.error('could not record the failure in the index', errorFields(e)));
    if (last) rlog.metric('RecordingFailed', [{ Source: m.source, Reason: reason }, {}]);
    if (permanent) return true;
    const seconds = last ? 0 : w.retryDelays[attempt - 1] ?? 0;
    await w.delay(record.receiptHandle, seconds).catch((e: unknown) => rlog.error('could not set the retry delay', errorFields(e)));
    return false;
  }
}

export async function processBatch(event: SQSEvent, w: WorkerDeps): Promise<SQSBatchResponse> {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    if (!(await handleOne(record, w))) batchItemFailures.push({ itemIdentifier: record.messageId });
  }
  return { batchItemFailures };
}
