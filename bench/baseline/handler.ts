import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * The cold-start baseline: a bundle that only constructs the SDK clients every
 * handler needs (S3Client + DynamoDBDocumentClient, as functions/shared/storage.ts
 * does) and answers without touching them. A handler's module-load time is
 * reported as a ratio to this bundle's.
 */
const s3 = new S3Client({});
const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({}));

export const handler = async (): Promise<{ statusCode: number; body: string }> => ({
  statusCode: 200,
  body: JSON.stringify({ ok: true, clients: [typeof s3.send, typeof ddb.send] }),
});
