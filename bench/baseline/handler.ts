import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';

/**
 * The cold-start baseline: a bundle that only constructs the SDK clients every
 * handler needs (S3Client + DynamoDBDocumentClient, as functions/shared/storage.ts
 * does) and, during init, warms them as the handlers' storage does (the same
 * three requests: an S3 PutObject and a DynamoDB PutItem built and signed but
 * not sent, a GetItem sent in the deployed configuration), then answers
 * without touching them. A handler's init time is reported as a ratio to this
 * bundle's, so the ratio is what our own code adds to the SDK's.
 */
const s3 = new S3Client({});
const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const unsent = () => ({ abortSignal: AbortSignal.abort() });
const Key = { PK: 'WARM-UP', SK: 'WARM-UP' };
const TableName = process.env.TABLE_NAME ?? 'baseline';

const secretArn = process.env.SECRET_ARN;

await Promise.allSettled([
  secretArn ? import('@aws-sdk/client-secrets-manager').then(({ SecretsManagerClient, GetSecretValueCommand }) =>
    new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: secretArn }))) : undefined,
  s3.send(new PutObjectCommand({ Bucket: process.env.BUCKET_NAME ?? 'baseline', Key: 'warm-up', Body: new Uint8Array(1), IfNoneMatch: '*' }), unsent()),
  ddb.send(new PutCommand({ TableName, Item: { ...Key, version: 0 }, ConditionExpression: 'attribute_not_exists(PK)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }), unsent()),
  ddb.send(new GetCommand({ TableName, Key, ConsistentRead: true }), secretArn ? { abortSignal: AbortSignal.timeout(1_000) } : unsent()),
]);

export const handler = async (): Promise<{ statusCode: number; body: string }> => ({
  statusCode: 200,
  body: JSON.stringify({ ok: true, clients: [typeof s3.send, typeof ddb.send] }),
});
