import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SECRET_NAMES } from '#shared/config';
import { secretKeyList } from '../../infra/secret.ts';
import { startSecretsManager, type SecretsManagerStandIn } from '../support/secrets-manager.ts';

/**
 * The deploy-time custom resource end to end over HTTP: the real SDK client
 * against a Secrets Manager stand-in (answering, stalled, failing), and a
 * stand-in for CloudFormation's pre-signed ResponseURL. A custom resource that
 * never answers hangs a deploy (up to the resource's service timeout), so the
 * answer — on every path, before the function's time runs out — is what is tested.
 */

const KEYS = secretKeyList();
let sm: SecretsManagerStandIn;
const responses: (Record<string, unknown> & { at: number })[] = [];
let cfn: Server;
let cfnBase: string;
let handler: (event: unknown, context?: { getRemainingTimeInMillis: () => number }) => Promise<void>;

const readBody = (req: IncomingMessage) => new Promise<string>((resolve) => {
  let b = '';
  req.on('data', (c: Buffer) => { b += c.toString(); });
  req.on('end', () => resolve(b));
});

beforeAll(async () => {
  sm = await startSecretsManager();
  cfn = createServer(async (req, res) => {
    responses.push({ method: req.method, url: req.url, at: Date.now(), ...JSON.parse(await readBody(req)) as Record<string, unknown> });
    res.end();
  });
  await new Promise<void>((resolve) => cfn.listen(0, '127.0.0.1', resolve));
  cfnBase = `http://127.0.0.1:${(cfn.address() as AddressInfo).port}`;
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = sm.endpoint;
  ({ handler } = await import('../../infra/secret-filler/handler.ts'));
});

afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
  await sm.stop();
  await new Promise((r) => cfn.close(r));
});

beforeEach(() => {
  sm.mode = 'ok';
  sm.calls.length = 0;
});

const event = (RequestType: string, id: string, keys = KEYS) => ({
  RequestType,
  ResponseURL: `${cfnBase}/response/${id}?X-Amz-Signature=abc`,
  StackId: 'arn:aws:cloudformation:us-east-1:111111111111:stack/VoiceWebhooks-dev/1',
  RequestId: id,
  LogicalResourceId: 'WebhookSecretFill',
  ResourceType: 'Custom::WebhookSecretFiller',
  ResourceProperties: { ServiceToken: 'arn:aws:lambda:…', SecretArn: sm.arn, GeneratedKeys: [...keys.generated], EmptyKeys: [...keys.empty], KeyListHash: 'h' },
});

/** A Lambda context whose time runs out `ms` from now. */
const timeLeft = (ms: number) => { const end = Date.now() + ms; return { getRemainingTimeInMillis: () => end - Date.now() }; };

const FROZEN = JSON.stringify({ VOLUBILE_WEBHOOK_SECRET: '', VOLUBILE_WEBHOOK_TOKEN: '', SYNTHFLOW_WEBHOOK_SECRET: '', SYNTHFLOW_WEBHOOK_TOKEN: '', ENGAGE_VOICE_TOKEN: '', ENGAGE_VOICE_BASIC_AUTH: '', WATSONX_AUDIO_SECRET: 'from-cloudformation' });

describe('secret filler custom resource', () => {
  it('on Create fills the generated tokens, keeps the CloudFormation-generated secret, and answers SUCCESS without values', async () => {
    sm.value = FROZEN;
    await handler(event('Create', 'r1'), timeLeft(60_000));
    const value = JSON.parse(sm.value!) as Record<string, string>;
    expect(Object.keys(value).sort()).toEqual([...SECRET_NAMES].sort());
    expect(value.WATSONX_AUDIO_SECRET).toBe('from-cloudformation');
    for (const k of ['VOLUBILE_WEBHOOK_TOKEN', 'SYNTHFLOW_WEBHOOK_TOKEN', 'ENGAGE_VOICE_TOKEN']) expect(value[k]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(value.VOLUBILE_WEBHOOK_SECRET).toBe('');
    const answer = responses.at(-1)!;
    expect(answer).toMatchObject({ method: 'PUT', url: '/response/r1?X-Amz-Signature=abc', Status: 'SUCCESS', RequestId: 'r1', LogicalResourceId: 'WebhookSecretFill', NoEcho: true });
    expect(JSON.stringify(answer)).not.toContain(value.ENGAGE_VOICE_TOKEN);
    expect(answer).not.toHaveProperty('Data');
  });

  it('on Update never overwrites a value the user set, and writes nothing when nothing is missing', async () => {
    const before = JSON.parse(sm.value!) as Record<string, string>;
    sm.value = JSON.stringify({ ...before, ENGAGE_VOICE_TOKEN: 'user-rotated', VOLUBILE_WEBHOOK_SECRET: 'from-volubile' });
    await handler({ ...event('Update', 'r2'), PhysicalResourceId: 'fill-WebhookSecretFill' }, timeLeft(60_000));
    expect(sm.calls).toEqual(['GetSecretValue']);
    expect(JSON.parse(sm.value)).toMatchObject({ ENGAGE_VOICE_TOKEN: 'user-rotated', VOLUBILE_WEBHOOK_SECRET: 'from-volubile', SYNTHFLOW_WEBHOOK_TOKEN: before.SYNTHFLOW_WEBHOOK_TOKEN });
    expect(responses.at(-1)).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'fill-WebhookSecretFill' });
  });

  it('on an Update with a changed key list adds exactly the new keys and keeps every value', async () => {
    const before = JSON.parse(sm.value!) as Record<string, string>;
    const changed = { generated: [...KEYS.generated, 'NEWVENDOR_WEBHOOK_TOKEN'], empty: [...KEYS.empty, 'NEWVENDOR_WEBHOOK_SECRET'] };
    await handler({ ...event('Update', 'r2b', changed), PhysicalResourceId: 'fill-WebhookSecretFill' }, timeLeft(60_000));
    expect(sm.calls).toEqual(['GetSecretValue', 'PutSecretValue']);
    const after = JSON.parse(sm.value!) as Record<string, string>;
    expect(after).toEqual({ ...before, NEWVENDOR_WEBHOOK_TOKEN: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), NEWVENDOR_WEBHOOK_SECRET: '' });
    expect(responses.at(-1)).toMatchObject({ Status: 'SUCCESS', RequestId: 'r2b', Reason: 'added NEWVENDOR_WEBHOOK_TOKEN, NEWVENDOR_WEBHOOK_SECRET' });
  });

  it('on Delete touches nothing, and answers FAILED (not silence) when the secret cannot be read', async () => {
    await handler({ ...event('Delete', 'r3'), PhysicalResourceId: 'fill-WebhookSecretFill' });
    expect(sm.calls).toEqual([]);
    expect(responses.at(-1)).toMatchObject({ Status: 'SUCCESS', RequestId: 'r3' });
    const other = event('Create', 'r4');
    await handler({ ...other, ResourceProperties: { ...other.ResourceProperties, SecretArn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:other' } }, timeLeft(60_000));
    expect(responses.at(-1)).toMatchObject({ Status: 'FAILED', RequestId: 'r4', Reason: expect.stringContaining('ResourceNotFoundException') });
  });

  it('fails the deploy on a stored value that is not JSON, and leaves it as it was', async () => {
    sm.value = 'hand-written, not json';
    await handler(event('Update', 'r5'), timeLeft(60_000));
    expect(sm.calls).toEqual(['GetSecretValue']);
    expect(sm.value).toBe('hand-written, not json');
    expect(responses.at(-1)).toMatchObject({ Status: 'FAILED', RequestId: 'r5', Reason: expect.stringContaining('not JSON') });
    sm.value = FROZEN;
  });

  it('answers FAILED to an invalid event that carries a ResponseURL, and returns quietly without one', async () => {
    const before = responses.length;
    await handler({ RequestType: 'Create', ResponseURL: `${cfnBase}/response/bad`, RequestId: 'r6', StackId: 's', LogicalResourceId: 'L', ResourceProperties: {} });
    expect(responses.length).toBe(before + 1);
    expect(responses.at(-1)).toMatchObject({ url: '/response/bad', Status: 'FAILED', RequestId: 'r6', Reason: expect.stringContaining('invalid custom resource event') });
    await expect(handler({ RequestType: 'Create' })).resolves.toBeUndefined();
    expect(responses.length).toBe(before + 1);
    expect(sm.calls).toEqual([]);
  });

  it('answers FAILED before its time runs out when Secrets Manager stalls', async () => {
    sm.mode = 'stall';
    const started = Date.now();
    const remaining = 8_000;
    await handler(event('Update', 'r7'), timeLeft(remaining));
    const answer = responses.at(-1)!;
    expect(answer).toMatchObject({ Status: 'FAILED', RequestId: 'r7', Reason: expect.stringContaining('Timeout') });
    expect(answer.at - started).toBeLessThan(remaining);
    expect(sm.calls.length).toBeGreaterThanOrEqual(1);
  }, 20_000);

  it('answers FAILED when Secrets Manager keeps failing, after the SDK retries', async () => {
    sm.mode = 'error';
    const started = Date.now();
    await handler(event('Create', 'r8'), timeLeft(30_000));
    const answer = responses.at(-1)!;
    expect(answer).toMatchObject({ Status: 'FAILED', RequestId: 'r8', Reason: expect.stringContaining('InternalServiceError') });
    expect(sm.calls).toEqual(['GetSecretValue', 'GetSecretValue', 'GetSecretValue']);
    expect(answer.at - started).toBeLessThan(25_000);
  }, 40_000);
});
