import { describe, it, expect, beforeAll } from 'vitest';
import { setLogSink } from '#shared/log';
import type { LambdaHandler } from '#shared/handler';
import { apiEvent, fixture, freshId, volubileSig } from './support.ts';

/**
 * Storage unreachable: the JSON sources answer 503 (with Retry-After) so the
 * vendor retries, never 2xx and never 500. This file points the SDK at a
 * closed loopback port before the handler (and its module-scope clients) load;
 * vitest runs each test file in its own process, so no other file is affected.
 */
let handler: LambdaHandler;

beforeAll(async () => {
  process.env.AWS_ENDPOINT_URL_S3 = 'http://127.0.0.1:9';
  process.env.AWS_ENDPOINT_URL_DYNAMODB = 'http://127.0.0.1:9';
  process.env.VOLUBILE_WEBHOOK_SECRET = 'fake-volubile-secret-for-tests';
  setLogSink(() => {});
  ({ handler } = await import('../../functions/call-completed/handler.ts'));
});

describe('call-completed with storage down', () => {
  it('answers 503 with Retry-After for an authenticated, valid call', async () => {
    const body = JSON.stringify({ ...fixture('volubile', 'call-completed.json'), id: freshId() });
    const started = Date.now();
    const res = await handler(apiEvent({ provider: 'volubile', body, headers: { 'x-webhook-signature': volubileSig('fake-volubile-secret-for-tests', body) } }));
    expect(res.statusCode).toBe(503);
    expect(res.headers?.['retry-after']).toBe('5');
    expect(JSON.parse(res.body ?? '{}')).toMatchObject({ error: 'service_unavailable' });
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
