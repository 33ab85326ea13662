import { describe, it, expect, vi, beforeAll } from 'vitest';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import type * as S3 from '@aws-sdk/client-s3';
import type * as Dynamo from '@aws-sdk/client-dynamodb';
import type * as Sqs from '@aws-sdk/client-sqs';
import type * as Sm from '@aws-sdk/client-secrets-manager';

/**
 * Pure modules build nothing: importing any module under functions/ other
 * than a handler's composition root (functions/<name>/handler.ts) constructs
 * no AWS SDK client, even with the deployed environment (SECRET_ARN) set.
 * The SDK client classes are instrumented (the real class, plus a record of
 * each construction).
 */

const constructed = vi.hoisted(() => [] as string[]);

vi.mock('@aws-sdk/client-s3', async (importOriginal) => {
  const m = await importOriginal<typeof S3>();
  return { ...m, S3Client: class extends m.S3Client { constructor(...a: ConstructorParameters<typeof m.S3Client>) { super(...a); constructed.push('S3Client'); } } };
});
vi.mock('@aws-sdk/client-dynamodb', async (importOriginal) => {
  const m = await importOriginal<typeof Dynamo>();
  return { ...m, DynamoDBClient: class extends m.DynamoDBClient { constructor(...a: ConstructorParameters<typeof m.DynamoDBClient>) { super(...a); constructed.push('DynamoDBClient'); } } };
});
vi.mock('@aws-sdk/client-sqs', async (importOriginal) => {
  const m = await importOriginal<typeof Sqs>();
  return { ...m, SQSClient: class extends m.SQSClient { constructor(...a: ConstructorParameters<typeof m.SQSClient>) { super(...a); constructed.push('SQSClient'); } } };
});
vi.mock('@aws-sdk/client-secrets-manager', async (importOriginal) => {
  const m = await importOriginal<typeof Sm>();
  return { ...m, SecretsManagerClient: class extends m.SecretsManagerClient { constructor(...a: ConstructorParameters<typeof m.SecretsManagerClient>) { super(...a); constructed.push('SecretsManagerClient'); } } };
});

const FUNCTIONS = new URL('../../functions/', import.meta.url).pathname;

function modulesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return modulesUnder(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

const all = modulesUnder(FUNCTIONS);
const isCompositionRoot = (path: string) => /^[^/]+\/handler\.ts$/.test(relative(FUNCTIONS, path));

describe('importing pure code constructs no SDK client', () => {
  beforeAll(() => {
    // The deployed configuration: a module that fetched the secret at import would build its client now.
    // The endpoint refuses at once, so nothing here reaches AWS.
    vi.stubEnv('SECRET_ARN', 'arn:aws:secretsmanager:us-east-1:000000000000:secret:pure-imports');
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', 'http://127.0.0.1:9');
  });

  it('every module under functions/ except the handlers\' composition roots', async () => {
    const pure = all.filter((p) => !isCompositionRoot(p));
    expect(pure.length).toBeGreaterThan(30);
    for (const path of pure) {
      await import(path);
      expect(constructed, relative(FUNCTIONS, path)).toEqual([]);
    }
  });

  it('control: a composition root does construct its clients (so the instrumentation sees them)', async () => {
    vi.stubEnv('SECRET_ARN', '');
    await import(join(FUNCTIONS, 'call-completed/handler.ts'));
    expect(constructed).toEqual(expect.arrayContaining(['S3Client', 'DynamoDBClient', 'SQSClient']));
  });
});
