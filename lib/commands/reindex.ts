import '../quiet-sdk.ts';
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { SOURCES, isSource, type Source } from '#shared/sources';
import { readSettings } from '#shared/config';
import { startEmbeddedStorage, sdkEnvironment, type EmbeddedStorage } from '../embedded.ts';
import { portAnswers } from '../calls/target.ts';
import { reindex } from '../reindex/core.ts';

/**
 * npm run reindex [-- --source <s>] [--since <yyyy-mm-dd>] [--stack <name>]
 *
 * Rebuilds the DynamoDB index from the S3 archive (S3 is the system of record)
 * with the handlers' own interpreters; idempotent, safe to repeat.
 *  - local (default): the servers of a running `npm start` when they answer on
 *    LOCAL_S3_PORT/LOCAL_DYNAMODB_PORT, else DATA_DIR itself;
 *  - `--stack <name>`: a deployed stack; bucket and table from its
 *    BucketName/TableName outputs, credentials/region from the standard AWS chain.
 * Same SDK code either way; the storage module's clients pick up the
 * standard SDK environment, which is why it is imported only after that is set.
 */

const USAGE = `usage: npm run reindex [-- --source ${SOURCES.join('|')}] [--since yyyy-mm-dd] [--stack <name>] [--concurrency n]`;

async function stackNames(stackName: string): Promise<{ bucketName: string; tableName: string; retentionDays?: string }> {
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const cfn = new CloudFormationClient({});
  try {
    const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const outputs = new Map((out.Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
    const bucketName = outputs.get('BucketName');
    const tableName = outputs.get('TableName');
    if (!bucketName || !tableName) throw new Error(`stack ${stackName} has no BucketName/TableName outputs; is it this project's stack?`);
    // Rebuilt items get the same TTL the handlers give them.
    const retention = outputs.get('RetentionDays');
    return { bucketName, tableName, ...(retention && retention !== 'forever' ? { retentionDays: retention } : {}) };
  } finally {
    cfn.destroy();
  }
}

async function run(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      source: { type: 'string', multiple: true },
      since: { type: 'string' },
      stack: { type: 'string' },
      concurrency: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (values.help) { console.log(USAGE); return 0; }
  const sources: Source[] = [];
  for (const s of values.source ?? []) {
    if (!isSource(s)) { console.error(`unknown source "${s}" (one of ${SOURCES.join(', ')})\n${USAGE}`); return 2; }
    sources.push(s);
  }
  if (values.since !== undefined && (!/^\d{4}-\d{2}-\d{2}$/.test(values.since) || Number.isNaN(Date.parse(values.since)))) {
    console.error(`--since "${values.since}" is not a date (yyyy-mm-dd)\n${USAGE}`);
    return 2;
  }

  let bucketName: string;
  let tableName: string;
  let embedded: EmbeddedStorage | undefined;
  let where: string;
  if (values.stack) {
    const names = await stackNames(values.stack);
    ({ bucketName, tableName } = names);
    if (names.retentionDays) process.env.RETENTION_DAYS = names.retentionDays;
    where = `stack ${values.stack}`;
  } else {
    const host = '127.0.0.1';
    bucketName = process.env.BUCKET_NAME?.trim() || 'voice-webhooks-local';
    tableName = process.env.TABLE_NAME?.trim() || 'voice-webhooks-local';
    const s3Port = Number(process.env.LOCAL_S3_PORT?.trim() || 4569);
    const dynamoPort = Number(process.env.LOCAL_DYNAMODB_PORT?.trim() || 4567);
    let endpoints = { s3Endpoint: `http://${host}:${s3Port}`, dynamoEndpoint: `http://${host}:${dynamoPort}` };
    where = `local servers ${endpoints.s3Endpoint} / ${endpoints.dynamoEndpoint}`;
    if (!process.env.AWS_ENDPOINT_URL_S3 && !(await portAnswers(host, s3Port) && await portAnswers(host, dynamoPort))) {
      const dataDir = resolve(process.env.DATA_DIR?.trim() || '.data');
      if (!existsSync(dataDir)) { console.error(`no local data in ${dataDir}; run \`npm start\` first, or pass --stack <name>`); return 2; }
      embedded = await startEmbeddedStorage({ dataDir, host });
      endpoints = embedded;
      where = `local data in ${dataDir}`;
    }
    if (!process.env.AWS_ENDPOINT_URL_S3) Object.assign(process.env, sdkEnvironment(endpoints));
  }
  process.env.BUCKET_NAME = bucketName;
  process.env.TABLE_NAME = tableName;

  const settings = readSettings();
  const s3 = new S3Client({ forcePathStyle: !values.stack });
  try {
    console.error(`reindexing ${sources.length ? sources.join(', ') : 'all sources'}${values.since ? ` since ${values.since}` : ''} from s3://${bucketName} into ${tableName} (${where})`);
    const report = await reindex({
      s3, bucketName, tableName, settings,
      ...(sources.length ? { sources } : {}),
      ...(values.since ? { since: values.since } : {}),
      concurrency: Number(values.concurrency ?? 8) || 8,
    });
    console.log(JSON.stringify({
      scanned: report.scanned,
      ...report.outcomes,
      notCalls: report.notCalls,
      bySource: report.bySource,
      failed: report.failed.length,
      keyMismatches: report.keyMismatches.length,
      ms: report.ms,
    }));
    for (const f of report.failed.slice(0, 20)) console.error(`failed: ${f.key}: ${f.reason}`);
    return report.failed.length ? 1 : 0;
  } finally {
    s3.destroy();
    await embedded?.stop();
  }
}

/** `npm run reindex` (scripts/reindex.ts): the exit code; a failure is one line on stderr. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (err) {
    process.stderr.write(`reindex failed: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
