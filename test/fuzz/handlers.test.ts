import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setLogSink } from '#shared/log';
import fc from 'fast-check';
import { handler as audioWebhook } from '../../functions/audio-webhook/handler.ts';
import { handler as callCompleted } from '../../functions/call-completed/handler.ts';
import { handler as engageVoice } from '../../functions/engage-voice/handler.ts';
import { HOSTILE_SECRETS, toEvent, volubileSignature, watsonxAuth, type HttpInput } from '../fixtures/hostile/common.ts';
import { errorBody, ownStorage, writes } from '../hostile/support.ts';
import { RUNS, anyBytes, anyText } from './support.ts';

/**
 * Whole handlers under arbitrary bodies, content types and methods, with valid
 * credentials so the parsers are reached, on the embedded storage (own bucket
 * and table): never a 5xx; a 4xx is JSON {error, message} and writes nothing.
 */

let bucket = '';
let table = '';
let restore: ((line: string) => void) | undefined;
beforeAll(async () => {
  ({ bucket, table } = await ownStorage('fuzz-handlers'));
  restore = setLogSink(() => {});
});
afterAll(() => {
  if (restore) setLogSink(restore);
});

const contentType = fc.option(fc.oneof(anyText, fc.constantFrom(
  'application/json', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=b', 'multipart/form-data', 'text/plain',
)), { nil: undefined });
const method = fc.constantFrom('POST', 'POST', 'POST', 'GET', 'PUT');

async function check(run: () => Promise<{ statusCode?: number; body?: string }>): Promise<void> {
  const before = await writes(bucket, table);
  const res = await run();
  const status = res.statusCode ?? 0;
  expect(status).toBeLessThan(500);
  if (status >= 400) {
    expect(errorBody(res.body)).toBeTypeOf('object');
    expect(await writes(bucket, table)).toBe(before);
  }
}

function input(m: string, target: string, headers: Record<string, string>, ct: string | undefined, body: Buffer): HttpInput {
  return { method: m, target, headers: { ...headers, ...(ct !== undefined ? { 'content-type': ct } : {}) }, ...(m === 'GET' ? {} : { body }) };
}

describe('handlers under arbitrary requests', () => {
  it('audio-webhook', async () => {
    await fc.assert(fc.asyncProperty(method, contentType, anyBytes, async (m, ct, body) => {
      await check(() => audioWebhook(toEvent(input(m, '/audio-webhook', watsonxAuth(), ct, body))));
    }), { numRuns: RUNS.handler });
  });

  it('call-completed/volubile (signed for the exact bytes)', async () => {
    await fc.assert(fc.asyncProperty(method, contentType, anyBytes, async (m, ct, body) => {
      await check(() => callCompleted(toEvent(input(m, '/call-completed/volubile', { 'x-webhook-signature': volubileSignature(body) }, ct, body))));
    }), { numRuns: RUNS.handler });
  });

  it('call-completed/synthflow and unknown providers', async () => {
    await fc.assert(fc.asyncProperty(method, contentType, anyBytes, fc.oneof(fc.constant('synthflow'), fc.stringMatching(/^[a-z]{1,12}$/)), async (m, ct, body, provider) => {
      const target = `/call-completed/${provider}?token=${HOSTILE_SECRETS.SYNTHFLOW_WEBHOOK_TOKEN}`;
      await check(() => callCompleted(toEvent(input(m, target, { 'synthflow-signature': 'AAAA' }, ct, body))));
    }), { numRuns: RUNS.handler });
  });

  it('engage-voice (body or query string)', async () => {
    const query = fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), anyText), { maxLength: 6 });
    await fc.assert(fc.asyncProperty(method, contentType, anyBytes, query, async (m, ct, body, q) => {
      const target = `/engage-voice?${new URLSearchParams([...q, ['token', HOSTILE_SECRETS.ENGAGE_VOICE_TOKEN]]).toString()}`;
      await check(() => engageVoice(toEvent(input(m, target, {}, ct, body))));
    }), { numRuns: RUNS.handler });
  });
});
