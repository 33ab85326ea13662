import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseStorage, startEmbeddedStorage, LOCAL_CREDENTIALS, LOCAL_REGION, type EmbeddedStorage } from '../../lib/embedded.ts';
import { SAMPLES } from '../../lib/samples.ts';
import { requestTarget, type OutgoingRequest } from '../../lib/requests.ts';
import { inspector, type Inspector } from '../../lib/inspect.ts';

/**
 * `npm start` against storage it did not start: a second s3rver + dynalite
 * pair, owned by this test, named by the standard SDK endpoint variables. The
 * real start script runs as a child process, creates the missing bucket and
 * table there, and a delivery lands in them.
 */

const ROOT = join(import.meta.dirname, '..', '..');
const BUCKET = 'external-start-bucket';
const TABLE = 'external-start-table';
const SECRET = 'external-storage-test-secret';
let pair: EmbeddedStorage;
let look: Inspector;
let child: ChildProcess | undefined;
let output = '';
let dataDir: string;
let baseUrl: string;

function send(base: string, r: OutgoingRequest): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(requestTarget(r), base), { method: r.method, headers: Object.fromEntries(r.headers) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

beforeAll(async () => {
  pair = await startEmbeddedStorage();
  look = inspector(pair, BUCKET, TABLE);
  dataDir = mkdtempSync(join(tmpdir(), 'voice-webhooks-external-'));
  const env: Record<string, string | undefined> = {
    ...process.env,
    AWS_ENDPOINT_URL_S3: pair.s3Endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: pair.dynamoEndpoint,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_REGION: LOCAL_REGION,
    AWS_REQUEST_CHECKSUM_CALCULATION: undefined,
    AWS_RESPONSE_CHECKSUM_VALIDATION: undefined,
    BUCKET_NAME: BUCKET,
    TABLE_NAME: TABLE,
    DATA_DIR: dataDir,
    PORT: '0',
    VOLUBILE_WEBHOOK_SECRET: SECRET,
  };
  child = spawn(join(ROOT, 'node_modules', '.bin', 'tsx'), ['local/start.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  baseUrl = await new Promise<string>((resolve, reject) => {
    const onData = (c: Buffer) => {
      output += c.toString();
      const ready = /ready: listening on (http:\/\/\S+)/.exec(output);
      if (ready?.[1]) resolve(ready[1]);
    };
    child!.stdout!.on('data', onData);
    child!.stderr!.on('data', onData);
    child!.once('exit', (code) => reject(new Error(`npm start exited (${code}): ${output}`)));
  });
}, 60_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  look?.destroy();
  await pair?.stop();
});

describe('npm start with AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL_DYNAMODB set', () => {
  it('starts no embedded servers, creates the bucket and table in the given storage, and stores a delivery there', async () => {
    expect(existsSync(join(dataDir, 's3'))).toBe(false);
    expect(existsSync(join(dataDir, 'dynamodb'))).toBe(false);
    expect(output).toContain(`--endpoint-url ${pair.s3Endpoint} s3 ls s3://${BUCKET}`);
    expect(output).not.toContain('S3RVER');

    const req = await SAMPLES.volubile.build({ secrets: { VOLUBILE_WEBHOOK_SECRET: SECRET }, fresh: true });
    const res = await send(baseUrl, req);
    expect(res.status).toBe(200);
    const items = await look.scanAll();
    expect(items).toHaveLength(1);
    const keys = await look.listKeys('raw/volubile/');
    expect(keys).toHaveLength(1);
    expect((await look.getBytes(keys[0]!)).equals(req.body!)).toBe(true);
  });
});

describe('chooseStorage', () => {
  it('is embedded by default, external with both endpoints or the flag, and refuses half a pair', () => {
    expect(chooseStorage({}, [])).toEqual({ kind: 'embedded' });
    expect(chooseStorage({ AWS_ENDPOINT_URL_S3: ' ', AWS_ENDPOINT_URL_DYNAMODB: '' }, [])).toEqual({ kind: 'embedded' });
    expect(chooseStorage({ AWS_ENDPOINT_URL_S3: 'http://a:1', AWS_ENDPOINT_URL_DYNAMODB: 'http://b:2' }, []))
      .toEqual({ kind: 'external', s3Endpoint: 'http://a:1', dynamoEndpoint: 'http://b:2' });
    expect(chooseStorage({}, ['--external-storage'])).toEqual({ kind: 'external' });
    expect(() => chooseStorage({ AWS_ENDPOINT_URL_S3: 'http://a:1' }, [])).toThrow(/both/);
  });
});
