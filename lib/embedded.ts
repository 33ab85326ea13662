import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import S3rver from 's3rver';
import dynalite from 'dynalite';
import { S3Client, CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { DynamoDBClient, CreateTableCommand, DescribeTableCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { createTableInput } from '#shared/table';

/**
 * The embedded, in-process stand-ins for S3 (s3rver) and DynamoDB (dynalite)
 * that local mode and the tests run on. The handlers reach them only through
 * the standard SDK environment (sdkEnvironment below): no "local" branch.
 */

export interface EmbeddedStorageOptions {
  /** Where data is kept; a fresh temporary directory when omitted. */
  dataDir?: string;
  host?: string;
  /** 0 picks a free port. */
  s3Port?: number;
  dynamoPort?: number;
}

export interface EmbeddedStorage {
  host: string;
  s3Port: number;
  dynamoPort: number;
  s3Endpoint: string;
  dynamoEndpoint: string;
  dataDir: string;
  /** Stop (and start again, on the same port and data) one server: for fault tests. */
  stopS3(): Promise<void>;
  startS3(): Promise<void>;
  stopDynamo(): Promise<void>;
  startDynamo(): Promise<void>;
  stop(): Promise<void>;
}

/** s3rver only accepts this access key pair. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
export const LOCAL_REGION = 'us-east-1';

export async function startEmbeddedStorage(opts: EmbeddedStorageOptions = {}): Promise<EmbeddedStorage> {
  const host = opts.host ?? '127.0.0.1';
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'voice-webhooks-'));
  const s3Dir = join(dataDir, 's3');
  const dynamoDir = join(dataDir, 'dynamodb');
  mkdirSync(s3Dir, { recursive: true });
  mkdirSync(dynamoDir, { recursive: true });

  let s3Port = opts.s3Port ?? 0;
  let dynamoPort = opts.dynamoPort ?? 0;
  let s3: S3rver | undefined;
  let dynamo: Server | undefined;

  const startS3 = async () => {
    s3 = new S3rver({ address: host, port: s3Port, silent: true, directory: s3Dir });
    const info = (await s3.run()) as AddressInfo;
    s3Port = info.port;
  };
  const stopS3 = async () => {
    const server = s3;
    s3 = undefined;
    if (server) await server.close();
  };
  const startDynamo = async () => {
    const server = dynalite({ path: dynamoDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }) as Server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(dynamoPort, host, () => resolve());
    });
    dynamoPort = (server.address() as AddressInfo).port;
    dynamo = server;
  };
  const stopDynamo = async () => {
    const server = dynamo;
    dynamo = undefined;
    if (!server) return;
    server.closeAllConnections?.();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };

  await startS3();
  await startDynamo();
  return {
    host,
    get s3Port() { return s3Port; },
    get dynamoPort() { return dynamoPort; },
    get s3Endpoint() { return `http://${host}:${s3Port}`; },
    get dynamoEndpoint() { return `http://${host}:${dynamoPort}`; },
    dataDir,
    stopS3,
    startS3,
    stopDynamo,
    startDynamo,
    stop: async () => { await Promise.all([stopS3(), stopDynamo()]); },
  };
}

/** The standard AWS SDK environment that points every client at the embedded servers. */
export function sdkEnvironment(storage: Pick<EmbeddedStorage, 's3Endpoint' | 'dynamoEndpoint'>): Record<string, string> {
  return {
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_S3: storage.s3Endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: storage.dynamoEndpoint,
    // s3rver stores the aws-chunked framing of streamed uploads verbatim unless
    // the SDK only adds checksums where S3 requires them.
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
  };
}

/** Create the bucket and the table (from the same schema the stack uses) if they do not exist yet. */
export async function ensureBucketAndTable(storage: Pick<EmbeddedStorage, 's3Endpoint' | 'dynamoEndpoint'>, bucketName: string, tableName: string): Promise<void> {
  const common = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const s3 = new S3Client({ ...common, endpoint: storage.s3Endpoint, forcePathStyle: true });
  const ddb = new DynamoDBClient({ ...common, endpoint: storage.dynamoEndpoint });
  try {
    await createIfMissing(s3, ddb, bucketName, tableName);
  } finally {
    s3.destroy();
    ddb.destroy();
  }
}

/** The same with clients of the caller's choosing (external storage: the standard SDK environment). */
export async function createIfMissing(s3: S3Client, ddb: DynamoDBClient, bucketName: string, tableName: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucketName }));
  } catch {
    await s3.send(new CreateBucketCommand({ Bucket: bucketName }));
  }
  try {
    await ddb.send(new DescribeTableCommand({ TableName: tableName }));
  } catch {
    await ddb.send(new CreateTableCommand(createTableInput(tableName)));
    // DynamoDB creates tables asynchronously (seconds); dynalite within a few ms. The waiter's
    // default first delay (20 s) would hold a dynalite caller 20 s for a table ready almost at once.
    await waitUntilTableExists({ client: ddb, maxWaitTime: 120, minDelay: 0.05, maxDelay: 2 }, { TableName: tableName });
  }
}

/**
 * Which storage `npm start` uses. Embedded unless the user points the SDK
 * elsewhere: both `AWS_ENDPOINT_URL_S3` and `AWS_ENDPOINT_URL_DYNAMODB` set
 * (LocalStack, a proxy, another s3rver/dynalite), or `--external-storage`
 * (the SDK's own endpoints and credentials: a real dev account). Half a pair
 * is refused: the archive and its index would live in different places.
 */
export type StorageChoice = { kind: 'embedded' } | { kind: 'external'; s3Endpoint?: string; dynamoEndpoint?: string };

export function chooseStorage(env: Record<string, string | undefined>, argv: readonly string[]): StorageChoice {
  const s3Endpoint = env.AWS_ENDPOINT_URL_S3?.trim() || undefined;
  const dynamoEndpoint = env.AWS_ENDPOINT_URL_DYNAMODB?.trim() || undefined;
  if ((s3Endpoint === undefined) !== (dynamoEndpoint === undefined)) {
    throw new Error('set both AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL_DYNAMODB to use external storage, or neither for the embedded servers');
  }
  if (s3Endpoint !== undefined && dynamoEndpoint !== undefined) return { kind: 'external', s3Endpoint, dynamoEndpoint };
  if (argv.includes('--external-storage')) return { kind: 'external' };
  return { kind: 'embedded' };
}
