import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createSecretsProvider, type SecretsProvider } from '#shared/secrets';
import { createQueueClient, delayRecordingMessage } from '#shared/recording-queue';
import { logger, takeColdStart } from '#shared/log';
import type { WorkerSettings } from './settings.ts';
import { processBatch } from './worker.ts';

/**
 * The recordings worker assembled from what it is given: its settings and clients. The
 * Lambda's handler.ts builds them once at cold start; local mode builds its own, so no
 * caller depends on the environment being set before an import.
 */

export interface WorkerClients {
  s3: S3Client;
  ddb: DynamoDBDocumentClient;
  queue: SQSClient;
  secrets: SecretsProvider;
}

/** The worker's clients. Streams, not webhook answers: generous per-request limits, the fetch policy bounds the vendor side. */
export function createWorkerClients(env: Record<string, string | undefined> = process.env): WorkerClients {
  return {
    s3: new S3Client({ maxAttempts: 3, requestHandler: { connectionTimeout: 2_000, requestTimeout: 60_000 } }),
    ddb: DynamoDBDocumentClient.from(
      new DynamoDBClient({ maxAttempts: 3, requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000 } }),
      { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false } },
    ),
    queue: createQueueClient(),
    secrets: createSecretsProvider(env),
  };
}

export type RecordingsHandler = (event: SQSEvent, context?: Partial<Context>) => Promise<SQSBatchResponse>;

export function createRecordingsHandler(settings: WorkerSettings, clients: WorkerClients): RecordingsHandler {
  const { s3, ddb, queue, secrets } = clients;
  return (event, context) => processBatch(event, {
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
