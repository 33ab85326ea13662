import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { startEmbeddedStorage, sdkEnvironment, ensureBucketAndTable, type EmbeddedStorage } from '../../lib/embedded.ts';
import { startHttpProxy, type HttpProxy } from '../../lib/http-proxy.ts';
import { inspector, type Inspector } from '../../lib/inspect.ts';
import { SECRET_NAMES } from '#shared/config';
import { fixture, freshUii, jsonEvent } from '../engage-voice/support.ts';
import { startSecretsManager, type SecretsManagerStandIn } from '../support/secrets-manager.ts';

/**
 * The init-time warm-up (functions/shared/warm.ts): every handler module,
 * imported as a new execution environment would import it, goes through its
 * request pipelines during init without writing anything. Seen from HTTP
 * proxies in front of this file's own s3rver and dynalite: in the deployed
 * configuration (SECRET_ARN set) init makes exactly one DynamoDB GetItem of a
 * key no item has and no S3 request; locally it makes none and leaves the
 * SDK clients untouched (tools set their endpoints after import). A storage that
 * cannot be reached never fails the init.
 */

const BUCKET = 'warm-up-bucket';
const TABLE = 'warm-up-table';
const TOKEN = 'tok-warm-up-7c21e0';
const HANDLERS = ['../../functions/audio-webhook/handler.ts', '../../functions/call-completed/handler.ts', '../../functions/engage-voice/handler.ts'];

let storage: EmbeddedStorage;
let s3Proxy: HttpProxy;
let ddbProxy: HttpProxy;
let sm: SecretsManagerStandIn;
let look: Inspector;
/** A port that accepts nothing: connections to it are refused. */
let closedPort: number;
const saved = { ...process.env };

beforeAll(async () => {
  storage = await startEmbeddedStorage();
  await ensureBucketAndTable(storage, BUCKET, TABLE);
  s3Proxy = await startHttpProxy(() => storage.s3Endpoint);
  ddbProxy = await startHttpProxy(() => storage.dynamoEndpoint);
  sm = await startSecretsManager(JSON.stringify({ ENGAGE_VOICE_TOKEN: TOKEN }));
  look = inspector(storage, BUCKET, TABLE);
  const probe: Server = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});

afterAll(async () => {
  process.env = { ...saved };
  vi.resetModules();
  look?.destroy();
  await s3Proxy?.close();
  await ddbProxy?.close();
  await sm?.stop();
  await storage?.stop();
});

beforeEach(() => {
  s3Proxy.reset();
  ddbProxy.reset();
  sm.mode = 'ok';
  vi.resetModules();
  process.env = { ...saved };
  for (const name of SECRET_NAMES) delete process.env[name];
  Object.assign(process.env, sdkEnvironment({ s3Endpoint: s3Proxy.endpoint, dynamoEndpoint: ddbProxy.endpoint }), {
    BUCKET_NAME: BUCKET, TABLE_NAME: TABLE, ENGAGE_VOICE_TIMEZONE: 'America/New_York', RECORDINGS_QUEUE_URL: undefined,
  });
  delete process.env.RECORDINGS_QUEUE_URL;
});

function deployed(extra: Record<string, string> = {}): void {
  Object.assign(process.env, { SECRET_ARN: sm.arn, AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.endpoint, ...extra });
}

async function importAll(): Promise<void> {
  for (const path of HANDLERS) await import(path);
}

async function stored(): Promise<{ objects: number; items: number }> {
  return { objects: (await look.listKeys('')).length, items: (await look.scanAll()).length };
}

describe('the init-time warm-up', () => {
  it('in the deployed configuration reads one key no item has per handler, sends nothing to S3, writes nothing', async () => {
    deployed();
    const before = await stored();
    await importAll();
    expect(s3Proxy.requests).toHaveLength(0);
    expect(ddbProxy.requests.map((r) => r.operation)).toEqual(['GetItem', 'GetItem', 'GetItem']);
    for (const r of ddbProxy.requests) {
      expect(JSON.parse(r.body.toString('utf8'))).toMatchObject({ TableName: TABLE, Key: { PK: { S: 'WARM-UP' }, SK: { S: 'WARM-UP' } } });
    }
    expect(await stored()).toEqual(before);
  });

  it('locally (no SECRET_ARN) sends nothing, and a tool that points the environment at its storage after importing the handlers stores there', async () => {
    process.env.ENGAGE_VOICE_TOKEN = TOKEN;
    // As npm start and invoke do: the handlers first, the storage endpoints after (a warmed client would have memoized none).
    const endpoints = { AWS_ENDPOINT_URL_S3: process.env.AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_DYNAMODB: process.env.AWS_ENDPOINT_URL_DYNAMODB };
    delete process.env.AWS_ENDPOINT_URL_S3;
    delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
    await importAll();
    Object.assign(process.env, endpoints);
    expect(s3Proxy.requests).toHaveLength(0);
    expect(ddbProxy.requests).toHaveLength(0);
    const { handler } = await import('../../functions/engage-voice/handler.ts');
    const res = await handler(jsonEvent(fixture('agent-termination', { uii: freshUii() }), { query: { token: TOKEN } }));
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body ?? '{}')).toMatchObject({ outcome: 'stored' });
    expect(ddbProxy.requests.map((r) => r.operation)).toEqual(['PutItem']);
    expect(s3Proxy.requests).toHaveLength(1);
  });

  it('counts the ColdStart metric during init, once, before any request', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = await import('#shared/log');
    log.setLogSink((line) => lines.push(JSON.parse(line) as Record<string, unknown>));
    await importAll();
    expect(lines.filter((l) => 'ColdStart' in l)).toHaveLength(1);
  });

  it('never fails the init: with DynamoDB refusing connections the modules load, and a delivery answers 503, not 500', async () => {
    deployed({ AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${closedPort}` });
    await importAll();
    const { handler } = await import('../../functions/engage-voice/handler.ts');
    const res = await handler(jsonEvent(fixture('agent-termination', { uii: freshUii() }), { query: { token: TOKEN } }));
    expect(res.statusCode).toBe(503);
    expect(JSON.parse(res.body ?? '{}')).toMatchObject({ error: 'service_unavailable' });
  }, 20_000);
});
