import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import { connect } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startEmbeddedStorage, LOCAL_CREDENTIALS, LOCAL_REGION } from '../embedded.ts';
import { CallReader } from './reader.ts';

/**
 * Where the calls command reads from:
 *  - `--stack <name>`: a deployed stack; bucket and table from its CloudFormation
 *    outputs, credentials and region from the standard AWS SDK chain;
 *  - otherwise local: the embedded servers of a running `npm start` when both
 *    ports answer, else the data directory itself (embedded servers started on
 *    free ports for the duration of the command, then stopped).
 */

export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * What a read-side command prints and exits with when it fails: 2 with the usage for a usage error
 * (its own or parseArgs'), 1 with a plain sentence for a table not created yet, 1 otherwise.
 */
export function failure(tool: string, usage: string, target: Target | undefined, err: unknown): { message: string; code: number } {
  if (err instanceof UsageError || (err instanceof Error && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
    return { message: `${tool}: ${err.message}\n\n${usage}`, code: 2 };
  }
  if (err instanceof Error && err.name === 'ResourceNotFoundException') {
    return { message: `${tool}: the table does not exist yet in ${target?.description ?? 'this storage'} (no call stored so far)`, code: 1 };
  }
  return { message: `${tool}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`, code: 1 };
}

export interface Target {
  reader: CallReader;
  /** Who acts, for erasure receipts and holds: the caller's IAM ARN, or the local user. */
  principal(): Promise<string>;
  /** The deployment's key for phone hashes in erasure receipts (docs/compliance.md). */
  receiptKey(): Promise<string>;
  /** Human description for the status line on stderr. */
  description: string;
  /** A deployed stack's recordings queue and dead-letter queue (its outputs), for `npm run recordings`. */
  recordingQueues?: { queueUrl: string; deadLetterQueueUrl: string };
  close(): Promise<void>;
}

type Env = Record<string, string | undefined>;

function portOf(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new UsageError(`${name} "${raw}" is not a port number`);
  return n;
}

/** True when something accepts TCP connections on host:port within the timeout. */
export function portAnswers(host: string, port: number, timeoutMs = 300): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host, port });
    const finish = (ok: boolean) => { socket.destroy(); done(ok); };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

function localReader(s3Endpoint: string, dynamoEndpoint: string, bucketName: string, tableName: string): CallReader {
  const common = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 2 };
  return new CallReader({
    bucketName,
    tableName,
    s3: new S3Client({ ...common, endpoint: s3Endpoint, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }),
    ddb: DynamoDBDocumentClient.from(new DynamoDBClient({ ...common, endpoint: dynamoEndpoint })),
  });
}

/** Local mode keeps the receipt key beside its other generated secrets, in DATA_DIR (0600). */
export function localReceiptKey(dataDir: string): string {
  const file = join(dataDir, 'receipt-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32).toString('base64url');
  writeFileSync(file, key + '\n', { mode: 0o600, flag: 'wx' });
  return key;
}

const localPrincipal = async () => `local:${userInfo().username}`;

export async function localTarget(env: Env = process.env): Promise<Target> {
  const host = '127.0.0.1';
  const bucketName = env.BUCKET_NAME?.trim() || 'voice-webhooks-local';
  const tableName = env.TABLE_NAME?.trim() || 'voice-webhooks-local';
  const s3Port = portOf(env, 'LOCAL_S3_PORT', 4569);
  const dynamoPort = portOf(env, 'LOCAL_DYNAMODB_PORT', 4567);
  const [s3Up, dynamoUp] = await Promise.all([portAnswers(host, s3Port), portAnswers(host, dynamoPort)]);
  if (s3Up && dynamoUp) {
    const reader = localReader(`http://${host}:${s3Port}`, `http://${host}:${dynamoPort}`, bucketName, tableName);
    const keyDir = resolve(env.DATA_DIR?.trim() || '.data');
    return {
      reader, principal: localPrincipal, receiptKey: async () => localReceiptKey(keyDir),
      description: `local servers on ${host}:${s3Port} (S3) and ${host}:${dynamoPort} (DynamoDB)`, close: async () => reader.destroy(),
    };
  }
  const dataDir = resolve(env.DATA_DIR?.trim() || '.data');
  if (!existsSync(dataDir)) {
    throw new UsageError(`no local data: ${dataDir} does not exist and nothing answers on ${host}:${s3Port}/${dynamoPort}; run \`npm start\` first, or pass --stack <name>`);
  }
  const storage = await startEmbeddedStorage({ dataDir, host });
  const reader = localReader(storage.s3Endpoint, storage.dynamoEndpoint, bucketName, tableName);
  return {
    reader,
    principal: localPrincipal,
    receiptKey: async () => localReceiptKey(dataDir),
    description: `local data in ${dataDir}`,
    close: async () => { reader.destroy(); await storage.stop(); },
  };
}

export async function stackTarget(stackName: string): Promise<Target> {
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const cfn = new CloudFormationClient({});
  let outputs: Record<string, string> = {};
  try {
    const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    for (const o of out.Stacks?.[0]?.Outputs ?? []) if (o.OutputKey && o.OutputValue) outputs[o.OutputKey] = o.OutputValue;
  } catch (err) {
    throw new UsageError(`cannot read stack ${stackName}: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    cfn.destroy();
  }
  const bucketName = outputs.BucketName;
  const tableName = outputs.TableName;
  if (!bucketName || !tableName) throw new UsageError(`stack ${stackName} has no BucketName/TableName outputs; is it this project's stack?`);
  const receiptKeyArn = outputs.ReceiptKeySecretArn;
  const queueUrl = outputs.RecordingsQueueUrl;
  const deadLetterQueueUrl = outputs.RecordingsDeadLetterQueueUrl;
  outputs = {};
  const reader = new CallReader({ bucketName, tableName });
  return {
    reader,
    principal: async () => {
      const { STSClient, GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
      const sts = new STSClient({});
      try {
        return (await sts.send(new GetCallerIdentityCommand({}))).Arn ?? 'unknown';
      } finally {
        sts.destroy();
      }
    },
    receiptKey: async () => {
      if (!receiptKeyArn) throw new UsageError(`stack ${stackName} has no ReceiptKeySecretArn output; deploy this version of the stack first`);
      const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
      const sm = new SecretsManagerClient({});
      try {
        const key = (await sm.send(new GetSecretValueCommand({ SecretId: receiptKeyArn }))).SecretString;
        if (!key) throw new Error('the receipt key secret is empty');
        return key;
      } finally {
        sm.destroy();
      }
    },
    description: `stack ${stackName} (table ${tableName})`,
    ...(queueUrl && deadLetterQueueUrl ? { recordingQueues: { queueUrl, deadLetterQueueUrl } } : {}),
    close: async () => reader.destroy(),
  };
}
