import '../lib/quiet-sdk.ts';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startEmbeddedStorage, sdkEnvironment, ensureBucketAndTable, chooseStorage, createIfMissing } from '../lib/embedded.ts';
import { createLocalServer } from '../lib/local-server.ts';
import { applyLocalSecrets, secretsFile, watchLocalSecrets } from '../lib/local-secrets.ts';
import { renderBanner } from '../lib/banner.ts';
import { readLocalConfig } from '../lib/local-config.ts';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setLogSink } from '#shared/log';
import { resetConfiguration } from '#shared/handler';
import { startLocalRecordings } from '../lib/local-recordings.ts';
import { createInbox } from '../lib/inbox/index.ts';

type Env = Record<string, string | undefined>;

/**
 * `npm start`: embedded S3 (s3rver) and DynamoDB (dynalite) with data under
 * DATA_DIR — or the user's own S3 and DynamoDB (see chooseStorage) — the local
 * API Gateway in front of the real handlers, generated secrets where the user
 * configured none, and a banner that says how to use it.
 */

interface Storage { s3Endpoint: string; dynamoEndpoint: string; stop(): Promise<void> }

async function openStorage(userEnv: Env, cfg: ReturnType<typeof readLocalConfig>): Promise<Storage & { external: boolean }> {
  const choice = chooseStorage(userEnv, process.argv.slice(2));
  if (choice.kind === 'embedded') {
    const storage = await startEmbeddedStorage({ dataDir: cfg.dataDir, host: cfg.host, s3Port: cfg.s3Port, dynamoPort: cfg.dynamoPort });
    Object.assign(process.env, sdkEnvironment(storage), { BUCKET_NAME: cfg.bucketName, TABLE_NAME: cfg.tableName });
    await ensureBucketAndTable(storage, cfg.bucketName, cfg.tableName);
    return { s3Endpoint: storage.s3Endpoint, dynamoEndpoint: storage.dynamoEndpoint, stop: () => storage.stop(), external: false };
  }
  // External: region, credentials and endpoints are the user's standard SDK environment, untouched.
  mkdirSync(cfg.dataDir, { recursive: true });
  process.env.AWS_REQUEST_CHECKSUM_CALCULATION ??= 'WHEN_REQUIRED';
  process.env.AWS_RESPONSE_CHECKSUM_VALIDATION ??= 'WHEN_REQUIRED';
  Object.assign(process.env, { BUCKET_NAME: cfg.bucketName, TABLE_NAME: cfg.tableName });
  const s3 = new S3Client({});
  const ddb = new DynamoDBClient({});
  try {
    await createIfMissing(s3, ddb, cfg.bucketName, cfg.tableName);
  } finally {
    s3.destroy();
    ddb.destroy();
  }
  return { s3Endpoint: choice.s3Endpoint ?? '', dynamoEndpoint: choice.dynamoEndpoint ?? '', stop: async () => undefined, external: true };
}

async function main(): Promise<void> {
  const userEnv: Env = { ...process.env };
  const cfg = readLocalConfig(userEnv);

  const storage = await openStorage(userEnv, cfg);

  const applied = new Set<string>();
  const decision = applyLocalSecrets(process.env, userEnv, cfg.dataDir, applied);
  // `npm run rotate` edits secrets.json: the next request after a change uses it, no restart.
  const stopWatching = watchLocalSecrets(process.env, userEnv, cfg.dataDir, applied, (err) => {
    if (err) {
      process.stderr.write(`${secretsFile(cfg.dataDir)} not applied, keeping the previous secrets: ${err instanceof Error ? err.message : String(err)}\n`);
      return;
    }
    resetConfiguration();
    process.stdout.write(`${secretsFile(cfg.dataDir)} changed: the handlers now use it\n`);
  });

  // The handlers' JSON log lines (what CloudWatch would get) go to a file so the
  // console keeps one readable line per request; LOG_HANDLERS=stdout shows them here.
  const handlerLog = join(cfg.dataDir, 'handlers.log');
  if (userEnv.LOG_HANDLERS !== 'stdout') {
    const stream = createWriteStream(handlerLog, { flags: 'a' });
    setLogSink((line) => { stream.write(line + '\n'); });
  }

  const recordings = await startLocalRecordings(userEnv, cfg);
  const inbox = createInbox({ bucketName: cfg.bucketName, tableName: cfg.tableName });
  recordings.onChange((source, callId) => inbox.onRecording(source, callId));
  const server = await createLocalServer({
    host: cfg.host,
    port: cfg.port,
    onDelivery: (e) => inbox.onDelivery(e),
    extraRoutes: (req, res) => inbox.handle(req, res),
  });
  process.stdout.write(renderBanner({
    baseUrl: server.url,
    env: userEnv,
    generated: decision.apply,
    dataDir: cfg.dataDir,
    bucketName: cfg.bucketName,
    tableName: cfg.tableName,
    s3Endpoint: storage.s3Endpoint,
    dynamoEndpoint: storage.dynamoEndpoint,
    externalStorage: storage.external,
  }) + '\n');
  process.stdout.write(`inbox: ${server.url}/ (calls as they arrive, rejected deliveries, audio)\n`);
  process.stdout.write(recordings.banner + '\n');
  if (userEnv.LOG_HANDLERS !== 'stdout') process.stdout.write(`handler logs (JSON lines, as CloudWatch gets them): ${handlerLog}\n`);
  process.stdout.write(`ready: listening on ${server.url}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping\n`);
    const force = setTimeout(() => process.exit(1), 5_000);
    force.unref();
    inbox.close();
    stopWatching();
    Promise.allSettled([server.close(), recordings.close().then(() => storage.stop())]).then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`npm start failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
