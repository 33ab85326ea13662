import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import { createSecretsProvider, getSecretString, secretsEndpoint, signedSecretRequest, ConfigError } from '#shared/config';

// functions/shared/config.ts fetches the webhook secret with a SigV4-signed
// GetSecretValue of its own instead of @aws-sdk/client-secrets-manager (cold
// start, docs/benchmarks.md). The signature is checked against the SDK's own
// signer; the call against a Secrets Manager stand-in on 127.0.0.1.

class NodeSha256 {
  private readonly h;
  constructor(secret?: unknown) {
    this.h = typeof secret === 'string' || secret instanceof Uint8Array ? createHmac('sha256', secret) : createHash('sha256');
  }
  update(data: string | Uint8Array): void { this.h.update(data); }
  async digest(): Promise<Uint8Array> { return new Uint8Array(this.h.digest()); }
}

const CREDS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session-token-example' };

describe('signedSecretRequest', () => {
  it.each([[CREDS], [{ accessKeyId: CREDS.accessKeyId, secretAccessKey: CREDS.secretAccessKey }]])('signs exactly as the SDK signer does', async (credentials) => {
    const now = new Date('2026-11-21T10:11:12.345Z');
    const endpoint = new URL('https://secretsmanager.eu-west-1.amazonaws.com');
    const ours = signedSecretRequest('arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf', endpoint, 'eu-west-1', credentials, now);
    const signer = new SignatureV4({ service: 'secretsmanager', region: 'eu-west-1', credentials, sha256: NodeSha256, applyChecksum: false });
    const { authorization: _a, ...unsigned } = ours.headers;
    const sdk = await signer.sign({ method: 'POST', protocol: 'https:', hostname: endpoint.hostname, path: '/', query: {}, headers: unsigned, body: ours.body }, { signingDate: now });
    expect(ours.headers.authorization).toBe(sdk.headers.authorization);
    expect(ours.headers['x-amz-date']).toBe('20261121T101112Z');
    expect(JSON.parse(ours.body)).toEqual({ SecretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf' });
  });

  it('uses the endpoint variables first, then the regional endpoint (China partition included)', () => {
    expect(secretsEndpoint('us-east-1', {}).href).toBe('https://secretsmanager.us-east-1.amazonaws.com/');
    expect(secretsEndpoint('cn-north-1', {}).href).toBe('https://secretsmanager.cn-north-1.amazonaws.com.cn/');
    expect(secretsEndpoint('us-east-1', { AWS_ENDPOINT_URL: 'http://127.0.0.1:1' }).href).toBe('http://127.0.0.1:1/');
    expect(secretsEndpoint('us-east-1', { AWS_ENDPOINT_URL: 'http://127.0.0.1:1', AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:2' }).href).toBe('http://127.0.0.1:2/');
  });
});

describe('getSecretString against a stand-in', () => {
  let server: Server;
  let endpoint = '';
  let answer: (req: IncomingMessage, body: string) => { status: number; body: string } = () => ({ status: 500, body: '' });
  const seen: { headers: IncomingMessage['headers']; body: string }[] = [];
  const saved = { ...process.env };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (d: string) => { body += d; }).on('end', () => {
        seen.push({ headers: req.headers, body });
        const a = answer(req, body);
        res.writeHead(a.status, { 'content-type': 'application/x-amz-json-1.1' }).end(a.body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });
  afterEach(() => {
    seen.length = 0;
    process.env = { ...saved };
  });

  const env = () => ({ ...process.env, AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint });

  it('returns SecretString from a signed GetSecretValue', async () => {
    answer = () => ({ status: 200, body: JSON.stringify({ ARN: 'arn', Name: 'n', SecretString: '{"WATSONX_AUDIO_SECRET":"s3cr3t"}' }) });
    await expect(getSecretString('my-secret', env())).resolves.toBe('{"WATSONX_AUDIO_SECRET":"s3cr3t"}');
    expect(seen).toHaveLength(1);
    expect(seen[0]?.headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
    expect(seen[0]?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[a-z0-9-]+\/secretsmanager\/aws4_request, SignedHeaders=content-type;host;x-amz-date;[a-z;-]*x-amz-target, Signature=[0-9a-f]{64}$/);
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual({ SecretId: 'my-secret' });
  });

  it('feeds createSecretsProvider: the secret JSON becomes the secrets', async () => {
    answer = () => ({ status: 200, body: JSON.stringify({ SecretString: JSON.stringify({ ENGAGE_VOICE_TOKEN: 'tok', OTHER: 'ignored', VOLUBILE_WEBHOOK_TOKEN: '' }) }) });
    const provider = createSecretsProvider({ ...env(), SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:x' });
    await expect(provider()).resolves.toEqual({ ENGAGE_VOICE_TOKEN: 'tok' });
    await provider();
    expect(seen).toHaveLength(1); // cached
  });

  it('refuses at once on a 4xx, naming the error type and nothing secret', async () => {
    answer = () => ({ status: 400, body: JSON.stringify({ __type: 'com.amazonaws#ResourceNotFoundException', message: 'Secrets Manager can\'t find the specified secret.' }) });
    const err = await getSecretString('missing', env()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(String(err)).toContain('ResourceNotFoundException');
    expect(seen).toHaveLength(1);
  });

  it('retries once on a 5xx, then succeeds or fails', async () => {
    let n = 0;
    answer = () => (++n === 1 ? { status: 503, body: '{}' } : { status: 200, body: JSON.stringify({ SecretString: 'ok' }) });
    await expect(getSecretString('x', env())).resolves.toBe('ok');
    expect(seen).toHaveLength(2);
    seen.length = 0;
    answer = () => ({ status: 500, body: 'oops' });
    await expect(getSecretString('x', env())).rejects.toThrow(/HTTP 500/);
    expect(seen).toHaveLength(2);
  });

  it('fails on a stand-in that does not answer, within the timeout and retry budget', async () => {
    const dead = createServer(() => { /* never answers */ });
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const started = Date.now();
    const err = await getSecretString('x', { ...process.env, AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(dead.address() as AddressInfo).port}` }).catch((e: unknown) => e);
    dead.closeAllConnections();
    await new Promise<void>((r) => dead.close(() => r()));
    expect(err).toBeInstanceOf(Error);
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 20_000);
});
