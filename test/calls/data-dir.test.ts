import { describe, it, expect, beforeAll } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { indexItem } from '#shared/storage';
import type { CallRecord } from '#shared/model';
import { startEmbeddedStorage, ensureBucketAndTable, LOCAL_CREDENTIALS, LOCAL_REGION } from '../../lib/embedded.ts';
import { portAnswers } from '../../lib/calls/target.ts';

/**
 * `npm run calls` when `npm start` is not running: the command starts the
 * embedded servers on the data directory itself (free ports), reads, stops.
 * Runs the real entry point in a child process, as a user would.
 */

const run = promisify(execFile);
const BUCKET = 'voice-webhooks-local';
let dataDir: string;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  await new Promise<void>((r) => server.close(() => r()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'calls-data-'));
  const storage = await startEmbeddedStorage({ dataDir });
  await ensureBucketAndTable(storage, BUCKET, BUCKET);
  const common = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const s3 = new S3Client({ ...common, endpoint: storage.s3Endpoint, forcePathStyle: true });
  const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ ...common, endpoint: storage.dynamoEndpoint }), { marshallOptions: { removeUndefinedValues: true } });
  const record: CallRecord = {
    source: 'volubile', callId: 'offline-call', status: 'completed', customerNumber: '+33612345678',
    startedAt: '2026-11-19T08:00:00.000Z', durationSec: 75, recordings: [],
    rawS3Key: 'raw/volubile/2026/11/19/offline-call/abc.json', receivedAt: '2026-11-19T08:02:00.000Z',
  };
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: record.rawS3Key, Body: '{}', ContentType: 'application/json' }));
  await ddb.send(new PutCommand({ TableName: BUCKET, Item: indexItem(record, 'CALL', 1, 'abc') }));
  s3.destroy();
  ddb.destroy();
  await storage.stop();
});

describe('calls on the data directory', () => {
  it('reads the data directory when nothing answers on the local ports', async () => {
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATA_DIR: dataDir,
      LOCAL_S3_PORT: String(await freePort()),
      LOCAL_DYNAMODB_PORT: String(await freePort()),
    };
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'scripts/calls.ts', 'list', '--day', '2026-11-19'], { env, timeout: 30_000 });
    expect(stdout).toMatch(/^TIME \(UTC\)/);
    expect(stdout).toMatch(/2026-11-19 08:00:00Z\s+volubile\s+completed\s+\+•••••••••78\s+1:15\s+0\s+offline-call/);
    expect(stderr).toContain(`local data in ${dataDir}`);
    // nothing listens there: the probe says so, rather than the reader waiting on a server
    expect(await portAnswers('127.0.0.1', Number(env.LOCAL_S3_PORT))).toBe(false);
  });

  it('says how to get data when there is none', async () => {
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: join(dataDir, 'missing'), LOCAL_S3_PORT: String(await freePort()), LOCAL_DYNAMODB_PORT: String(await freePort()) };
    const err = await run(process.execPath, ['--import', 'tsx', 'scripts/calls.ts', 'list'], { env, timeout: 30_000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 2, stderr: expect.stringContaining('run `npm start` first') });
  });
});
