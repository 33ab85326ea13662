import { SQSClient, SendMessageBatchCommand, ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import type { NormalizedCall, Source } from './model.ts';
import { type Logger, errorFields } from './log.ts';
import { unsent } from './warm.ts';

/**
 * The one seam between a stored delivery and the recordings worker
 * (functions/recordings): SQS SendMessage in AWS, and in local mode the same
 * SDK call against the queue `npm start` embeds (AWS_ENDPOINT_URL_SQS). A
 * message names the index item and the recording; the worker reads the rest
 * from the index, so a message never carries a URL or a credential.
 */

export interface RecordingMessage {
  source: Source;
  callId: string;
  /** Sort key of the index item holding the recording. */
  sk: string;
  recordingId: string;
}

/** The client a composition root creates once. Hard, short limits: the webhook's answer waits for this call and must not stall. */
export function createQueueClient(): SQSClient {
  return new SQSClient({
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 500, requestTimeout: 1_000, throwOnRequestTimeout: true },
  });
}

/** Vendor-held recordings of a call (linked, or fetched through the vendor's API) that are not in our bucket yet. */
export function recordingMessages(call: Pick<NormalizedCall, 'source' | 'callId' | 'recordings'>, sk: string): RecordingMessage[] {
  return call.recordings
    .filter((r) => (r.sourceUrl !== undefined || r.viaApi === true) && r.s3Key === undefined)
    .map((r) => ({ source: call.source, callId: call.callId, sk, recordingId: r.id }));
}

/**
 * How long a message queued beside its index write stays invisible: longer
 * than an index write takes in practice, so the worker's first look finds the
 * item (the worker looks again when it does not: functions/recordings/worker.ts).
 */
export const QUEUED_BESIDE_INDEX_DELAY_SECONDS = 1;

/** Sends messages (in batches of 10, SQS's limit), each invisible for `delaySeconds`; throws on failure. */
export async function sendRecordingMessages(client: SQSClient, queueUrl: string, messages: readonly RecordingMessage[], delaySeconds = 0): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const batch = messages.slice(i, i + 10);
    const out = await client.send(new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: batch.map((m, n) => ({ Id: String(n), MessageBody: JSON.stringify(m), ...(delaySeconds > 0 ? { DelaySeconds: delaySeconds } : {}) })),
    }));
    if (out.Failed && out.Failed.length > 0) throw new Error(`queue refused ${out.Failed.length} message(s): ${out.Failed[0]?.Code ?? 'unknown'}`);
  }
}

/**
 * Queues a delivery's linked recordings. The webhook sends it beside the
 * storage writes (`alongside`), not after them: one round trip fewer for the
 * caller. The message stays invisible for a second, by which time the index
 * write has finished; one that still reaches the worker before its item is
 * written (or for an event that turned out stale) is looked at once more
 * before it is let go (functions/recordings/worker.ts). A duplicate is
 * queued again (its first enqueue may have failed). Never throws: a failed
 * enqueue is logged and counted, the webhook is answered as stored, and the
 * index keeps the recording without a copy (`npm run recordings -- --missing` queues it again).
 */
export async function queueRecordings(
  client: SQSClient,
  queueUrl: string | undefined,
  call: Pick<NormalizedCall, 'source' | 'callId' | 'recordings'>,
  sk: string,
  log: Logger,
): Promise<number> {
  if (!queueUrl) return 0;
  const messages = recordingMessages(call, sk);
  if (messages.length === 0) return 0;
  try {
    await sendRecordingMessages(client, queueUrl, messages, QUEUED_BESIDE_INDEX_DELAY_SECONDS);
    return messages.length;
  } catch (err) {
    log.error('recordings not queued: the index keeps them without a copy; `npm run recordings -- --missing` queues them', { ...errorFields(err), count: messages.length });
    log.metric('RecordingEnqueueFailed', [{ Source: call.source }, {}], messages.length);
    return 0;
  }
}

/** The store's result once the enqueue beside it has settled too: nothing is left in flight when the webhook answers. */
export async function alongside<T>(stored: Promise<T>, queued: Promise<number>): Promise<T> {
  const [result] = await Promise.allSettled([stored, queued]);
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}

/** During init: one batch send through the SDK's pipeline, not sent (`unsent`), so the first caller does not pay its first use. */
export async function warmQueue(client: SQSClient, queueUrl: string | undefined): Promise<void> {
  if (!queueUrl) return;
  await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: [{ Id: '0', MessageBody: '{}' }] }), unsent()).catch(() => undefined);
}

/** The worker's backoff: the message becomes visible again (a retry) after `seconds`. */
export async function delayRecordingMessage(client: SQSClient, queueUrl: string, receiptHandle: string, seconds: number): Promise<void> {
  await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }));
}
