import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SECRET_NAMES } from '#shared/config';

/**
 * The deploy-time custom resource end to end over HTTP: a small stand-in for
 * the Secrets Manager JSON API (there is no embedded Secrets Manager) and a
 * stand-in for CloudFormation's pre-signed ResponseURL. A custom resource that
 * never answers hangs a deploy for an hour, so the protocol is what is tested.
 */

const ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:WebhookSecret-abc';
let stored: string;
const calls: string[] = [];
const responses: Record<string, unknown>[] = [];
let sm: Server;
let cfn: Server;
let handler: (event: unknown) => Promise<void>;

const readBody = (req: IncomingMessage) => new Promise<string>((resolve) => {
  let b = '';
  req.on('data', (c: Buffer) => { b += c.toString(); });
  req.on('end', () => resolve(b));
});

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  sm = createServer(async (req, res) => {
    const target = String(req.headers['x-amz-target']).split('.')[1] ?? '';
    const body = JSON.parse(await readBody(req)) as { SecretId: string; SecretString?: string };
    calls.push(target);
    res.setHeader('content-type', 'application/x-amz-json-1.1');
    if (body.SecretId !== ARN) { res.statusCode = 400; res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'no such secret' })); return; }
    if (target === 'PutSecretValue') stored = body.SecretString ?? '';
    res.end(JSON.stringify({ ARN, Name: 'WebhookSecret-abc', SecretString: stored, VersionId: 'v1' }));
  });
  cfn = createServer(async (req, res) => {
    responses.push({ method: req.method, url: req.url, ...JSON.parse(await readBody(req)) as Record<string, unknown> });
    res.end();
  });
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = await listen(sm);
  process.env.CFN_RESPONSE_BASE = await listen(cfn);
  ({ handler } = await import('../../infra/secret-filler/handler.ts'));
});

afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
  delete process.env.CFN_RESPONSE_BASE;
  await new Promise((r) => sm.close(r));
  await new Promise((r) => cfn.close(r));
});

const event = (RequestType: string, id: string) => ({
  RequestType,
  ResponseURL: `${process.env.CFN_RESPONSE_BASE}/response/${id}?X-Amz-Signature=abc`,
  StackId: 'arn:aws:cloudformation:us-east-1:111111111111:stack/VoiceWebhooks-dev/1',
  RequestId: id,
  LogicalResourceId: 'FillWebhookSecret',
  ResourceType: 'Custom::WebhookSecretFiller',
  ResourceProperties: { ServiceToken: 'arn:aws:lambda:…', SecretArn: ARN, Version: '1' },
});

describe('secret filler custom resource', () => {
  it('on Create fills the generated tokens, keeps the CloudFormation-generated secret, and answers SUCCESS without values', async () => {
    stored = JSON.stringify({ WATSONX_AUDIO_SECRET: 'from-cloudformation', VOLUBILE_WEBHOOK_SECRET: '', VOLUBILE_WEBHOOK_TOKEN: '', SYNTHFLOW_WEBHOOK_SECRET: '', SYNTHFLOW_WEBHOOK_TOKEN: '', ENGAGE_VOICE_TOKEN: '', ENGAGE_VOICE_BASIC_AUTH: '' });
    await handler(event('Create', 'r1'));
    const value = JSON.parse(stored) as Record<string, string>;
    expect(Object.keys(value).sort()).toEqual([...SECRET_NAMES].sort());
    expect(value.WATSONX_AUDIO_SECRET).toBe('from-cloudformation');
    for (const k of ['VOLUBILE_WEBHOOK_TOKEN', 'SYNTHFLOW_WEBHOOK_TOKEN', 'ENGAGE_VOICE_TOKEN']) expect(value[k]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(value.VOLUBILE_WEBHOOK_SECRET).toBe('');
    const answer = responses.at(-1)!;
    expect(answer).toMatchObject({ method: 'PUT', url: '/response/r1?X-Amz-Signature=abc', Status: 'SUCCESS', RequestId: 'r1', LogicalResourceId: 'FillWebhookSecret', NoEcho: true });
    expect(JSON.stringify(answer)).not.toContain(value.ENGAGE_VOICE_TOKEN);
    expect(answer).not.toHaveProperty('Data');
  });

  it('on Update never overwrites a value the user set, and writes nothing when nothing is missing', async () => {
    const before = JSON.parse(stored) as Record<string, string>;
    stored = JSON.stringify({ ...before, ENGAGE_VOICE_TOKEN: 'user-rotated', VOLUBILE_WEBHOOK_SECRET: 'from-volubile' });
    calls.length = 0;
    await handler({ ...event('Update', 'r2'), PhysicalResourceId: 'fill-FillWebhookSecret' });
    expect(calls).toEqual(['GetSecretValue']);
    expect(JSON.parse(stored)).toMatchObject({ ENGAGE_VOICE_TOKEN: 'user-rotated', VOLUBILE_WEBHOOK_SECRET: 'from-volubile', SYNTHFLOW_WEBHOOK_TOKEN: before.SYNTHFLOW_WEBHOOK_TOKEN });
    expect(responses.at(-1)).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'fill-FillWebhookSecret' });
  });

  it('on Delete touches nothing, and answers FAILED (not silence) when the secret cannot be read', async () => {
    calls.length = 0;
    await handler({ ...event('Delete', 'r3'), PhysicalResourceId: 'fill-FillWebhookSecret' });
    expect(calls).toEqual([]);
    expect(responses.at(-1)).toMatchObject({ Status: 'SUCCESS', RequestId: 'r3' });
    await handler({ ...event('Create', 'r4'), ResourceProperties: { SecretArn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:other' } });
    expect(responses.at(-1)).toMatchObject({ Status: 'FAILED', RequestId: 'r4', Reason: expect.stringContaining('filling the webhook secret failed') });
    await expect(handler({ RequestType: 'Create' })).rejects.toThrow(/not a CloudFormation/);
  });
});
