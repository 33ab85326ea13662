import { S3Client, GetObjectCommand, HeadObjectCommand, DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand, BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './embedded.ts';
import { callPk } from '#shared/table';

/** Every key under a prefix, following continuation tokens. */
export async function listKeysWith(prefix: string, bucketName: string, client: S3Client): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const out = await client.send(new ListObjectsV2Command({ Bucket: bucketName, Prefix: prefix, ContinuationToken: token }));
    for (const o of out.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = out.NextContinuationToken;
  } while (token);
  return keys;
}

/**
 * Read-back clients that talk to the embedded servers DIRECTLY (not through the
 * fault proxies), so a test can check what is really stored while the
 * handler's path is broken.
 */
export function inspector(endpoints: { s3Endpoint: string; dynamoEndpoint: string }, bucketName: string, tableName: string) {
  const common = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const s3 = new S3Client({ ...common, endpoint: endpoints.s3Endpoint, forcePathStyle: true });
  const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ ...common, endpoint: endpoints.dynamoEndpoint }));

  const listKeys = (prefix = ''): Promise<string[]> => listKeysWith(prefix, bucketName, s3);

  async function getBytes(key: string): Promise<Buffer> {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucketName, Key: key }));
    return Buffer.from(await out.Body!.transformToByteArray());
  }

  async function exists(key: string): Promise<boolean> {
    try {
      await s3.send(new HeadObjectCommand({ Bucket: bucketName, Key: key }));
      return true;
    } catch (err) {
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
      throw err;
    }
  }

  async function scanAll(): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await ddb.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start, ConsistentRead: true }));
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  async function itemsOf(source: string, callId: string) {
    return (await scanAll()).filter((i) => i.PK === callPk(source, callId));
  }

  /** Empty the table (the "index lost" scenario of a reindex). */
  async function wipeTable(): Promise<number> {
    const items = await scanAll();
    for (let i = 0; i < items.length; i += 25) {
      const chunk = items.slice(i, i + 25);
      await ddb.send(new BatchWriteCommand({
        RequestItems: { [tableName]: chunk.map((it) => ({ DeleteRequest: { Key: { PK: it.PK, SK: it.SK } } })) },
      }));
    }
    return items.length;
  }

  async function wipeBucket(): Promise<void> {
    const keys = await listKeys();
    for (let i = 0; i < keys.length; i += 500) {
      await s3.send(new DeleteObjectsCommand({ Bucket: bucketName, Delete: { Objects: keys.slice(i, i + 500).map((Key) => ({ Key })) } }));
    }
  }

  return { s3, ddb, listKeys, getBytes, exists, scanAll, itemsOf, wipeTable, wipeBucket, destroy: () => { s3.destroy(); ddb.destroy(); } };
}
export type Inspector = ReturnType<typeof inspector>;
