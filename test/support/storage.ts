import { S3Client, GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { TABLE_SCHEMA, callPk } from '#shared/table';
import { listKeysWith } from '../../lib/inspect.ts';

/** Read-side helpers for tests: what did the handlers really store? Same SDK, same environment. */
export const bucket = () => process.env.BUCKET_NAME!;
export const table = () => process.env.TABLE_NAME!;

export const s3 = new S3Client({});
export const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({}));

export async function getObjectBytes(key: string, bucketName = bucket()): Promise<Buffer> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucketName, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

export async function headObject(key: string, bucketName = bucket()) {
  return s3.send(new HeadObjectCommand({ Bucket: bucketName, Key: key }));
}

/** Every key under a prefix; `client` for a test's own servers. */
export function listKeys(prefix: string, bucketName = bucket(), client: S3Client = s3): Promise<string[]> {
  return listKeysWith(prefix, bucketName, client);
}

export async function getItems(source: string, callId: string, tableName = table()) {
  const out = await ddb.send(new QueryCommand({
    TableName: tableName,
    KeyConditionExpression: '#pk = :pk',
    ExpressionAttributeNames: { '#pk': TABLE_SCHEMA.partitionKey },
    ExpressionAttributeValues: { ':pk': callPk(source, callId) },
    ConsistentRead: true,
  }));
  return out.Items ?? [];
}

export async function getItem(source: string, callId: string, sk: string, tableName = table()) {
  const out = await ddb.send(new GetCommand({
    TableName: tableName,
    Key: { [TABLE_SCHEMA.partitionKey]: callPk(source, callId), [TABLE_SCHEMA.sortKey]: sk },
    ConsistentRead: true,
  }));
  return out.Item;
}

/** Count everything stored: for "no write" assertions around rejected requests. */
export async function countAll(bucketName = bucket(), tableName = table()): Promise<{ objects: number; items: number }> {
  const objects = (await listKeys('', bucketName)).length;
  let items = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const out = await ddb.send(new ScanCommand({ TableName: tableName, Select: 'COUNT', ExclusiveStartKey: start }));
    items += out.Count ?? 0;
    start = out.LastEvaluatedKey;
  } while (start);
  return { objects, items };
}
