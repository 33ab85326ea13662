import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createSecretsProvider } from '#shared/secrets';
import { createQueueClient, delayRecordingMessage } from '#shared/recording-queue';
import { logger, takeColdStart } from '#shared/log';
import { readWorkerSettings } from './settings.ts';
import { processBatch } from './worker.ts';

/**
 * The recordings worker (SQS → Lambda): copies the audio a vendor only linked
 * to into the bucket. Composition root: configuration and SDK clients once per
 * cold start, handed to the pure batch logic in worker.ts. See README.md here.
 */

const settings = readWorkerSettings();
const secrets = createSecretsProvider();
// Fetched during init, as for the webhook functions (#shared/secrets).
await secrets.ready;
// Streams, not webhook answers: generous per-request limits, the fetch policy bounds the vendor side.
const queue = createQueueClient();
const s3 = new S3Client({ maxAttempts: 3, requestHandler: { connectionTimeout: 2_000, requestTimeout: 60_000 } });
const ddb = DynamoDBDocumentClient.from(
  new DynamoDBClient({ maxAttempts: 3, requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000 } }),
  { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false } },
);

export async function handler(event: SQSEvent, context?: Partial<Context>): Promise<SQSBatchResponse> {
  return processBatch(event, {
    s3,
    ddb,
    bucketName: settings.bucketName,
    tableName: settings.tableName,
    maxBytes: settings.maxBytes,
    policy: settings.policy,
    secrets,
    synthflowApiUrl: settings.synthflowApiUrl,
    vapiApiUrl: settings.vapiApiUrl,
    retryDelays: settings.retryDelays,
    delay: (receiptHandle, seconds) => delayRecordingMessage(queue, settings.queueUrl, receiptHandle, seconds),
    log: logger.child({
      handler: 'recordings',
      ...(context?.awsRequestId ? { function_request_id: context.awsRequestId } : {}),
      cold_start: takeColdStart(context?.functionName ?? 'recordings'),
    }),
  });
}
