import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { SQSClient, ReceiveMessageCommand, SendMessageCommand, GetQueueAttributesCommand, GetQueueUrlCommand, DeleteMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { startLocalQueues, type LocalQueues } from '../../lib/local-queue.ts';
import { delayRecordingMessage, sendRecordingMessages } from '#shared/recording-queue';
import { eventually } from './support.ts';

/**
 * Local mode's queue, through the real SQS SDK (JSON protocol, MD5 checks):
 * the event source semantics the worker relies on in AWS.
 */

let queues: LocalQueues;
let sqs: SQSClient;

beforeAll(async () => {
  queues = await startLocalQueues({
    host: '127.0.0.1',
    port: 0,
    specs: [
      { name: 'q', visibilityTimeoutSec: 2, deadLetter: { name: 'q-dlq', maxReceiveCount: 2 } },
      { name: 'plain', visibilityTimeoutSec: 30 },
    ],
  });
  sqs = new SQSClient({ endpoint: queues.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
});
afterAll(async () => {
  sqs.destroy();
  await queues.close();
});

describe('local queue: the SQS calls the product makes', () => {
  it('sends, receives (with the SDK checking MD5s), hides in flight, and deletes', async () => {
    const url = (await sqs.send(new GetQueueUrlCommand({ QueueName: 'plain' }))).QueueUrl!;
    expect(url).toBe(queues.url('plain'));
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'héllo' }));
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'] }));
    expect(got.Messages?.map((m) => m.Body)).toEqual(['héllo']);
    expect(got.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe('1');
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: url }))).Messages ?? []).toEqual([]);
    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
    expect(attrs.Attributes).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '1' });
    await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: got.Messages![0]!.ReceiptHandle! }));
    expect(queues.counts('plain')).toEqual({ visible: 0, inFlight: 0 });
  });

  it('refuses an unknown queue and a stale receipt handle like SQS', async () => {
    await expect(sqs.send(new SendMessageCommand({ QueueUrl: `${queues.endpoint}/000000000000/nope`, MessageBody: 'x' }))).rejects.toThrow(/does not exist/);
    await expect(delayRecordingMessage(sqs, queues.url('plain'), 'not-a-handle', 1)).rejects.toThrow(/receipt handle/);
  });
});

describe('local event source: what Lambda does with an SQS queue', () => {
  it('batches, deletes what succeeded, redelivers a reported failure after its visibility, then dead-letters it', async () => {
    const batches: SQSEvent[] = [];
    const at = new Map<string, number[]>();
    const stop = queues.attach('q', async (event) => {
      batches.push(event);
      for (const r of event.Records) at.set(r.body, [...(at.get(r.body) ?? []), Date.now()]);
      return { batchItemFailures: event.Records.filter((r) => r.body.includes('"bad"')).map((r) => ({ itemIdentifier: r.messageId })) };
    }, { batchSize: 5, maxConcurrency: 1, pollMs: 50 });
    try {
      await sendRecordingMessages(sqs, queues.url('q'), [
        { source: 'synthflow', callId: 'a', sk: 'CALL', recordingId: 'good' },
        { source: 'synthflow', callId: 'b', sk: 'CALL', recordingId: 'bad' },
      ]);
      await eventually(async () => (queues.counts('q-dlq').visible === 1 ? true : undefined), 10_000, 'the dead-letter queue');
      const first = batches[0]!;
      expect(first.Records).toHaveLength(2);
      expect(first.Records[0]).toMatchObject({ eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:q', attributes: { ApproximateReceiveCount: '1' } });
      const bad = batches.flatMap((b) => b.Records).filter((r) => r.body.includes('"bad"'));
      expect(bad.map((r) => r.attributes.ApproximateReceiveCount)).toEqual(['1', '2']);
      // Redelivered only once its visibility timeout (2 s) ran out.
      const [t1, t2] = at.get(bad[0]!.body)!;
      expect(t2! - t1!).toBeGreaterThanOrEqual(1_900);
      expect(batches.flatMap((b) => b.Records).filter((r) => r.body.includes('"good"'))).toHaveLength(1);
      expect(queues.counts('q')).toEqual({ visible: 0, inFlight: 0 });
    } finally {
      await stop();
    }
  });

  it('a retry comes when the worker says: ChangeMessageVisibility on the receipt handle it was given', async () => {
    const seen: number[] = [];
    const stop = queues.attach('q', async (event) => {
      const r = event.Records[0]!;
      seen.push(Date.now());
      if (seen.length === 1) {
        await delayRecordingMessage(sqs, queues.url('q'), r.receiptHandle, 0);
        return { batchItemFailures: [{ itemIdentifier: r.messageId }] };
      }
      return { batchItemFailures: [] };
    }, { batchSize: 1, maxConcurrency: 1, pollMs: 50 });
    try {
      await sendRecordingMessages(sqs, queues.url('q'), [{ source: 'synthflow', callId: 'c', sk: 'CALL', recordingId: 'r' }]);
      await eventually(async () => (seen.length === 2 ? true : undefined), 5_000, 'the retry');
      // The queue's own visibility is 2 s; visibility 0 brought it back well before that.
      expect(seen[1]! - seen[0]!).toBeLessThan(1_500);
    } finally {
      await stop();
    }
  });

  it('a handler that throws leaves the whole batch for a retry', async () => {
    let calls = 0;
    const stop = queues.attach('plain', async () => {
      calls += 1;
      if (calls === 1) throw new Error('boom');
      return { batchItemFailures: [] };
    }, { batchSize: 5, maxConcurrency: 1, pollMs: 50 });
    try {
      await sendRecordingMessages(sqs, queues.url('plain'), [{ source: 'synthflow', callId: 'd', sk: 'CALL', recordingId: 'r' }]);
      await eventually(async () => (calls === 1 ? true : undefined), 5_000, 'the first batch');
      expect(queues.counts('plain').inFlight).toBe(1);
    } finally {
      await stop();
    }
  });
});
