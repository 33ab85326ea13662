import {
  SQSClient, DeleteMessageCommand, GetQueueAttributesCommand, GetQueueUrlCommand, ReceiveMessageCommand, SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { pickSecrets } from '#shared/config';
import { sendRecordingMessages, type RecordingMessage } from '#shared/recording-queue';
import { archiveRecording, recordFailure, type ArchiveDeps } from '../../functions/recordings/archive.ts';
import { FetchError } from '../../functions/recordings/fetch.ts';
import { readWorkerSettings } from '../../functions/recordings/settings.ts';
import { DEFAULT_LOCAL_SQS_PORT, RECORDINGS_DLQ, RECORDINGS_QUEUE } from '../local-recordings.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../embedded.ts';
import { portAnswers, UsageError, type Target } from '../calls/target.ts';

/**
 * Where `npm run recordings` sends what it re-queues:
 *  - `--stack`: the stack's SQS queue (its RecordingsQueueUrl output);
 *  - locally with `npm start` running: the queue it embeds (LOCAL_SQS_PORT), so
 *    its worker copies them with its usual retries, as it does for new calls;
 *  - locally without it: the worker's own archive path, run here once per
 *    recording, so the copy is made now and the result printed.
 */

type Env = Record<string, string | undefined>;

export type Outcome = { kind: 'archived'; s3Key: string; bytes: number } | { kind: 'already' | 'gone' } | { kind: 'failed'; reason: string };

export interface Requeue {
  /** `queue`: messages are sent, a worker copies them later; `direct`: copied now, by this command. */
  mode: 'queue' | 'direct';
  description: string;
  /** Queue mode: messages sent; direct mode: each recording archived now, one after another. */
  run(messages: readonly RecordingMessage[], attemptsOf: (m: RecordingMessage) => number, onOutcome: (m: RecordingMessage, o: Outcome) => void): Promise<void>;
  /** Moves the dead-letter queue's messages back to the queue; undefined without one. */
  redrive?(): Promise<number>;
  /** Messages waiting in the dead-letter queue, when there is one. */
  deadLetters?(): Promise<number>;
  close(): void;
}

/** Receive, send to the queue, delete: works on SQS and on the local queue alike. At-least-once (the worker is idempotent). */
async function moveMessages(sqs: SQSClient, from: string, to: string): Promise<number> {
  let moved = 0;
  for (let round = 0; round < 1_000; round++) {
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: from, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 120 }));
    const messages = (got.Messages ?? []).filter((m) => m.Body && m.ReceiptHandle);
    if (messages.length === 0) break;
    const sent = await sqs.send(new SendMessageBatchCommand({ QueueUrl: to, Entries: messages.map((m, i) => ({ Id: String(i), MessageBody: m.Body })) }));
    const ok = new Set((sent.Successful ?? []).map((s) => s.Id));
    for (const [i, m] of messages.entries()) {
      if (!ok.has(String(i))) continue;
      await sqs.send(new DeleteMessageCommand({ QueueUrl: from, ReceiptHandle: m.ReceiptHandle }));
      moved++;
    }
    if (sent.Failed?.length) throw new Error(`the queue refused ${sent.Failed.length} message(s): ${sent.Failed[0]?.Code ?? 'unknown'}`);
  }
  return moved;
}

function queueRequeue(sqs: SQSClient, queueUrl: string, deadLetterQueueUrl: string, description: string): Requeue {
  return {
    mode: 'queue',
    description,
    run: async (messages) => { await sendRecordingMessages(sqs, queueUrl, messages); },
    redrive: () => moveMessages(sqs, deadLetterQueueUrl, queueUrl),
    deadLetters: async () => {
      const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
      return Number(out.Attributes?.ApproximateNumberOfMessages ?? 0);
    },
    close: () => sqs.destroy(),
  };
}

/** The worker's path, here: same settings (RECORDINGS_* variables), same fetch policy as `npm start`, one attempt each. */
function directRequeue(target: Target, env: Env): Requeue {
  const { reader } = target;
  const settings = readWorkerSettings({
    ...env,
    BUCKET_NAME: reader.bucketName,
    TABLE_NAME: reader.tableName,
    RECORDINGS_QUEUE_URL: 'none',
    RECORDINGS_ALLOW_LOOPBACK: env.RECORDINGS_ALLOW_LOOPBACK?.trim() || 'true',
  });
  const deps: ArchiveDeps = {
    s3: reader.s3,
    ddb: reader.ddb,
    bucketName: settings.bucketName,
    tableName: settings.tableName,
    maxBytes: settings.maxBytes,
    policy: settings.policy,
    secrets: async () => pickSecrets(env),
    synthflowApiUrl: settings.synthflowApiUrl,
    vapiApiUrl: settings.vapiApiUrl,
  };
  return {
    mode: 'direct',
    description: `this command (npm start is not running), from ${target.description}`,
    run: async (messages, attemptsOf, onOutcome) => {
      for (const m of messages) {
        try {
          const r = await archiveRecording(deps, m);
          onOutcome(m, r.kind === 'archived' ? { kind: 'archived', s3Key: r.s3Key, bytes: r.bytes } : { kind: r.kind });
        } catch (err) {
          const reason = err instanceof FetchError ? err.reason : typeof err === 'object' && err !== null && '$metadata' in err ? 'storage_error' : 'internal_error';
          await recordFailure(deps, m, 'failed', reason, attemptsOf(m));
          onOutcome(m, { kind: 'failed', reason });
        }
      }
    },
    close: () => undefined,
  };
}

function portOf(env: Env): number {
  const raw = env.LOCAL_SQS_PORT?.trim();
  const port = raw ? Number(raw) : DEFAULT_LOCAL_SQS_PORT;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new UsageError(`LOCAL_SQS_PORT "${raw}" is not a port number`);
  return port;
}

export async function openRequeue(target: Target, stack: string | undefined, env: Env): Promise<Requeue> {
  if (stack !== undefined) {
    const q = target.recordingQueues;
    if (!q) throw new UsageError(`stack ${stack} has no RecordingsQueueUrl/RecordingsDeadLetterQueueUrl outputs; deploy this version of the stack first`);
    return queueRequeue(new SQSClient({}), q.queueUrl, q.deadLetterQueueUrl, `the queue of stack ${stack}`);
  }
  const port = portOf(env);
  if (!(await portAnswers('127.0.0.1', port))) return directRequeue(target, env);
  const endpoint = `http://127.0.0.1:${port}`;
  const sqs = new SQSClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 2 });
  try {
    const [queue, dlq] = await Promise.all([RECORDINGS_QUEUE, RECORDINGS_DLQ].map((name) => sqs.send(new GetQueueUrlCommand({ QueueName: name }))));
    if (!queue?.QueueUrl || !dlq?.QueueUrl) throw new Error('no queue URL');
    return queueRequeue(sqs, queue.QueueUrl, dlq.QueueUrl, `the queue of the running npm start (${endpoint})`);
  } catch (err) {
    sqs.destroy();
    throw new UsageError(`something answers on 127.0.0.1:${port} (LOCAL_SQS_PORT) but it is not npm start's recordings queue: ${err instanceof Error ? err.message : String(err)}`);
  }
}
