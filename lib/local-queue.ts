import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

/**
 * Local mode's stand-in for SQS and for Lambda's SQS event source.
 *
 * No embedded SQS speaks the JSON protocol the SDK (3.11xx) sends (sqslite
 * answers it with 415), so this is a small one: an HTTP endpoint for the calls
 * the product makes (SendMessage, SendMessageBatch, ReceiveMessage,
 * DeleteMessage, ChangeMessageVisibility, GetQueueAttributes, GetQueueUrl,
 * PurgeQueue), reached through AWS_ENDPOINT_URL_SQS like S3 and DynamoDB are, and
 * a poller that does what the event source mapping does in AWS: batches of
 * visible messages, each received with the queue's visibility timeout, handed
 * to the worker as a real SQS event; succeeded messages deleted, those in
 * `batchItemFailures` (or all, if the handler threw) left to reappear when
 * their visibility ends; a message received `maxReceiveCount` times moves to
 * the dead-letter queue. Messages are kept in DATA_DIR across restarts.
 */

export const LOCAL_ACCOUNT = '000000000000';
const REGION = 'us-east-1';

export interface QueueSpec {
  name: string;
  visibilityTimeoutSec: number;
  deadLetter?: { name: string; maxReceiveCount: number };
}

interface Message {
  id: string;
  body: string;
  md5: string;
  sentAt: number;
  visibleAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  receiptHandle?: string;
}

interface Queue {
  spec: QueueSpec;
  messages: Message[];
}

export type SqsHandler = (event: SQSEvent) => Promise<SQSBatchResponse | void>;

export interface EventSourceOptions {
  batchSize: number;
  /** Batches in flight at once (the mapping's maximum concurrency). */
  maxConcurrency: number;
  pollMs?: number;
  onError?: (err: unknown) => void;
}

export interface LocalQueues {
  endpoint: string;
  url(name: string): string;
  /** Starts feeding a queue's messages to a handler; returns a stop function. */
  attach(name: string, handler: SqsHandler, opts: EventSourceOptions): () => Promise<void>;
  /** Visible, in flight, delayed: what GetQueueAttributes reports. */
  counts(name: string): { visible: number; inFlight: number };
  close(): Promise<void>;
}

const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');

class SqsError extends Error {
  constructor(readonly type: string, message: string) { super(message); }
}

export async function startLocalQueues(opts: { host: string; port: number; specs: QueueSpec[]; stateFile?: string; now?: () => number }): Promise<LocalQueues> {
  const now = opts.now ?? Date.now;
  const queues = new Map<string, Queue>();
  for (const spec of opts.specs) {
    queues.set(spec.name, { spec, messages: [] });
    if (spec.deadLetter && !queues.has(spec.deadLetter.name)) {
      queues.set(spec.deadLetter.name, { spec: { name: spec.deadLetter.name, visibilityTimeoutSec: 30 }, messages: [] });
    }
  }
  if (opts.stateFile && existsSync(opts.stateFile)) {
    try {
      const saved = JSON.parse(readFileSync(opts.stateFile, 'utf8')) as Record<string, Message[]>;
      for (const [name, messages] of Object.entries(saved)) {
        const q = queues.get(name);
        // After a restart nothing is in flight any more.
        if (q && Array.isArray(messages)) q.messages = messages.map((m) => ({ ...m, visibleAt: Math.min(m.visibleAt, now()) }));
      }
    } catch {
      // A damaged state file starts empty: what it held is still in the index, with no copy; `npm run recordings -- --missing` queues it again.
    }
  }
  const save = () => {
    if (!opts.stateFile) return;
    writeFileSync(opts.stateFile, JSON.stringify(Object.fromEntries([...queues].map(([n, q]) => [n, q.messages]))));
  };

  let endpoint = '';
  const url = (name: string) => `${endpoint}/${LOCAL_ACCOUNT}/${name}`;
  const queueOf = (queueUrl: unknown): Queue => {
    const name = typeof queueUrl === 'string' ? queueUrl.split('/').pop() ?? '' : '';
    const q = queues.get(name);
    if (!q) throw new SqsError('AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.');
    return q;
  };

  const send = (q: Queue, body: unknown, delaySeconds: unknown): Message => {
    if (typeof body !== 'string' || body.length === 0) throw new SqsError('MissingParameter', 'MessageBody is required');
    const m: Message = { id: randomUUID(), body, md5: md5(body), sentAt: now(), visibleAt: now() + (Number(delaySeconds) || 0) * 1000, receiveCount: 0 };
    q.messages.push(m);
    return m;
  };

  /** Receives like SQS: visible messages, oldest first; one past its maxReceiveCount moves to the DLQ instead. */
  const receive = (q: Queue, max: number, visibilitySec: number): Message[] => {
    const out: Message[] = [];
    const t = now();
    for (const m of [...q.messages]) {
      if (out.length >= max) break;
      if (m.visibleAt > t) continue;
      const dl = q.spec.deadLetter;
      if (dl && m.receiveCount >= dl.maxReceiveCount) {
        q.messages.splice(q.messages.indexOf(m), 1);
        const dlq = queues.get(dl.name);
        dlq?.messages.push({ ...m, visibleAt: t, receiveCount: 0, receiptHandle: undefined, firstReceivedAt: undefined });
        continue;
      }
      m.receiveCount += 1;
      m.firstReceivedAt ??= t;
      m.receiptHandle = randomUUID();
      m.visibleAt = t + visibilitySec * 1000;
      out.push(m);
    }
    if (out.length > 0 || q.spec.deadLetter) save();
    return out;
  };

  const byHandle = (q: Queue, handle: unknown): Message => {
    const m = q.messages.find((x) => x.receiptHandle !== undefined && x.receiptHandle === handle);
    if (!m) throw new SqsError('ReceiptHandleIsInvalid', 'The receipt handle is not valid (or the message was received again).');
    return m;
  };

  const attrs = (m: Message) => ({
    ApproximateReceiveCount: String(m.receiveCount),
    SentTimestamp: String(m.sentAt),
    ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt ?? now()),
    SenderId: LOCAL_ACCOUNT,
  });

  const actions: Record<string, (input: Record<string, unknown>) => unknown> = {
    SendMessage: (i) => {
      const m = send(queueOf(i.QueueUrl), i.MessageBody, i.DelaySeconds);
      save();
      return { MessageId: m.id, MD5OfMessageBody: m.md5 };
    },
    SendMessageBatch: (i) => {
      const q = queueOf(i.QueueUrl);
      const entries = Array.isArray(i.Entries) ? (i.Entries as Record<string, unknown>[]) : [];
      if (entries.length === 0 || entries.length > 10) throw new SqsError('AWS.SimpleQueueService.TooManyEntriesInBatchRequest', 'between 1 and 10 entries');
      const Successful = entries.map((e) => {
        const m = send(q, e.MessageBody, e.DelaySeconds);
        return { Id: e.Id, MessageId: m.id, MD5OfMessageBody: m.md5 };
      });
      save();
      return { Successful, Failed: [] };
    },
    ReceiveMessage: (i) => {
      const q = queueOf(i.QueueUrl);
      const max = Math.min(Math.max(Number(i.MaxNumberOfMessages) || 1, 1), 10);
      const vis = i.VisibilityTimeout === undefined ? q.spec.visibilityTimeoutSec : Number(i.VisibilityTimeout);
      return {
        Messages: receive(q, max, vis).map((m) => ({ MessageId: m.id, ReceiptHandle: m.receiptHandle, MD5OfBody: m.md5, Body: m.body, Attributes: attrs(m) })),
      };
    },
    DeleteMessage: (i) => {
      const q = queueOf(i.QueueUrl);
      q.messages.splice(q.messages.indexOf(byHandle(q, i.ReceiptHandle)), 1);
      save();
      return {};
    },
    ChangeMessageVisibility: (i) => {
      const q = queueOf(i.QueueUrl);
      const seconds = Number(i.VisibilityTimeout);
      if (!Number.isInteger(seconds) || seconds < 0 || seconds > 43_200) throw new SqsError('InvalidParameterValue', 'VisibilityTimeout must be 0..43200');
      byHandle(q, i.ReceiptHandle).visibleAt = now() + seconds * 1000;
      save();
      return {};
    },
    GetQueueAttributes: (i) => {
      const q = queueOf(i.QueueUrl);
      const t = now();
      const visible = q.messages.filter((m) => m.visibleAt <= t).length;
      const oldest = q.messages.reduce((a, m) => Math.min(a, m.sentAt), t);
      return {
        Attributes: {
          ApproximateNumberOfMessages: String(visible),
          ApproximateNumberOfMessagesNotVisible: String(q.messages.length - visible),
          ApproximateNumberOfMessagesDelayed: '0',
          VisibilityTimeout: String(q.spec.visibilityTimeoutSec),
          ApproximateAgeOfOldestMessage: String(Math.round((t - oldest) / 1000)),
          QueueArn: `arn:aws:sqs:${REGION}:${LOCAL_ACCOUNT}:${q.spec.name}`,
        },
      };
    },
    GetQueueUrl: (i) => {
      if (typeof i.QueueName !== 'string' || !queues.has(i.QueueName)) throw new SqsError('AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.');
      return { QueueUrl: url(i.QueueName) };
    },
    PurgeQueue: (i) => {
      queueOf(i.QueueUrl).messages = [];
      save();
      return {};
    },
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, body: unknown, extra: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID(), ...extra });
        res.end(JSON.stringify(body));
      };
      const target = String(req.headers['x-amz-target'] ?? '');
      const action = actions[target.replace(/^AmazonSQS\./, '')];
      if (req.method !== 'POST' || !target.startsWith('AmazonSQS.') || !action) {
        return reply(400, { __type: 'com.amazonaws.sqs#InvalidAction', message: `unsupported action ${target || '(none)'}` });
      }
      try {
        const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
        reply(200, action(input));
      } catch (err) {
        const type = err instanceof SqsError ? err.type : 'InvalidParameterValue';
        reply(400, { __type: `com.amazonaws.sqs#${type}`, message: err instanceof Error ? err.message : 'error' }, { 'x-amzn-query-error': `${type};Sender` });
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  endpoint = `http://${opts.host}:${(server.address() as AddressInfo).port}`;

  const pollers = new Set<() => Promise<void>>();

  const attach = (name: string, handler: SqsHandler, o: EventSourceOptions) => {
    const q = queues.get(name);
    if (!q) throw new Error(`no local queue ${name}`);
    const arn = `arn:aws:sqs:${REGION}:${LOCAL_ACCOUNT}:${name}`;
    let inFlight = 0;
    const running = new Set<Promise<void>>();
    const runBatch = async (batch: Message[]) => {
      const handles = new Map(batch.map((m) => [m.id, m.receiptHandle]));
      const records: SQSRecord[] = batch.map((m) => ({
        messageId: m.id,
        receiptHandle: m.receiptHandle ?? '',
        body: m.body,
        attributes: attrs(m),
        messageAttributes: {},
        md5OfBody: m.md5,
        eventSource: 'aws:sqs',
        eventSourceARN: arn,
        awsRegion: REGION,
      }));
      let failed: Set<string>;
      try {
        const result = await handler({ Records: records });
        failed = new Set((result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      } catch (err) {
        o.onError?.(err);
        failed = new Set(batch.map((m) => m.id));
      }
      // Lambda deletes what succeeded; a message received again meanwhile has a new handle and stays.
      q.messages = q.messages.filter((m) => failed.has(m.id) || m.receiptHandle !== handles.get(m.id));
      save();
    };
    const tick = () => {
      while (inFlight < o.maxConcurrency) {
        const batch = receive(q, o.batchSize, q.spec.visibilityTimeoutSec);
        if (batch.length === 0) break;
        inFlight += 1;
        const p = runBatch(batch).finally(() => { inFlight -= 1; running.delete(p); });
        running.add(p);
      }
    };
    const timer = setInterval(tick, o.pollMs ?? 250);
    tick();
    const stop = async () => {
      clearInterval(timer);
      await Promise.allSettled([...running]);
      pollers.delete(stop);
    };
    pollers.add(stop);
    return stop;
  };

  return {
    endpoint,
    url,
    attach,
    counts: (name) => {
      const q = queues.get(name);
      const t = now();
      const visible = q ? q.messages.filter((m) => m.visibleAt <= t).length : 0;
      return { visible, inFlight: (q?.messages.length ?? 0) - visible };
    },
    close: async () => {
      await Promise.allSettled([...pollers].map((stop) => stop()));
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      save();
    },
  };
}
