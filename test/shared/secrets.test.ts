import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resetConfiguration } from '#shared/handler';
import { SECRET_NAMES } from '#shared/config';
import { setLogSink } from '#shared/log';
import { DEFAULT_SECRET_TIMINGS, createSecretsProvider, readSecretTimings, runtimeSecretTimings } from '#shared/secrets';
import { handler } from '../../functions/engage-voice/handler.ts';
import { fixture, freshUii, jsonEvent } from '../engage-voice/support.ts';
import { startSecretsManager, type SecretsManagerStandIn } from '../support/secrets-manager.ts';

/**
 * The webhook secret in the AWS configuration (SECRET_ARN set): the real SDK
 * client against a Secrets Manager stand-in that answers, stalls (holds the
 * socket open, never answers) or fails. A request never waits for a refresh
 * while a cached value is valid; a fetch that must be waited for is bounded.
 */

let sm: SecretsManagerStandIn;
const TOKEN = 'tok-secrets-cache-4b1e9d';
const value = (token: string) => JSON.stringify({ ENGAGE_VOICE_TOKEN: token, WATSONX_AUDIO_SECRET: 'w-secret-cache-aa', unrelated: 'kept out' });

beforeAll(async () => {
  sm = await startSecretsManager(value(TOKEN));
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = sm.endpoint;
});
afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
  delete process.env.SECRET_ARN;
  delete process.env.SECRET_REFRESH_SECONDS;
  resetConfiguration();
  await sm.stop();
});
beforeEach(() => {
  sm.mode = 'ok';
  sm.value = value(TOKEN);
  sm.calls.length = 0;
});

/** A clock the test moves. */
function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => { t += ms; } };
}

const env = (extra: Record<string, string> = {}) => ({ SECRET_ARN: sm.arn, AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.endpoint, ...extra });

describe('readSecretTimings', () => {
  it('defaults to a 5 minute refresh and 1 hour bound, and refuses nonsense naming the variable', () => {
    expect(readSecretTimings({})).toEqual({ refreshMs: 300_000, maxStaleMs: 3_600_000 });
    expect(readSecretTimings({ SECRET_REFRESH_SECONDS: '60', SECRET_MAX_STALE_SECONDS: '600' })).toEqual({ refreshMs: 60_000, maxStaleMs: 600_000 });
    expect(readSecretTimings({ SECRET_REFRESH_SECONDS: '7200' })).toEqual({ refreshMs: 7_200_000, maxStaleMs: 7_200_000 });
    expect(() => readSecretTimings({ SECRET_REFRESH_SECONDS: 'abc' })).toThrow(/SECRET_REFRESH_SECONDS must be a whole number of seconds, got "abc"/);
    expect(() => readSecretTimings({ SECRET_REFRESH_SECONDS: '0' })).toThrow(/SECRET_REFRESH_SECONDS must be between 1 and 86400/);
    expect(() => readSecretTimings({ SECRET_REFRESH_SECONDS: '-5' })).toThrow(/whole number/);
    expect(() => readSecretTimings({ SECRET_REFRESH_SECONDS: '600', SECRET_MAX_STALE_SECONDS: '60' })).toThrow(/SECRET_MAX_STALE_SECONDS \(60\) must be at least SECRET_REFRESH_SECONDS \(600\)/);
  });

  it('at run time, an invalid interval falls back to the defaults with one warning instead of failing every request', async () => {
    const warnings: string[] = [];
    const c = clock();
    const provider = createSecretsProvider(env({ SECRET_REFRESH_SECONDS: '1.5' }), { ...c, warn: (m) => warnings.push(m) });
    await provider.ready;
    expect(warnings).toEqual([expect.stringMatching(/SECRET_REFRESH_SECONDS must be a whole number of seconds, got "1.5"; using the defaults \(300 s refresh, 3600 s staleness bound\)/)]);
    expect((await provider()).ENGAGE_VOICE_TOKEN).toBe(TOKEN);
    // The default refresh interval (300 s) is what applies: no new fetch before it, one after.
    c.advance(299_000);
    await provider();
    expect(sm.calls).toEqual(['GetSecretValue']);
    c.advance(2_000);
    await provider();
    await expect.poll(() => sm.calls.length).toBe(2);
    expect(runtimeSecretTimings({ SECRET_REFRESH_SECONDS: '0' }, () => undefined)).toEqual(DEFAULT_SECRET_TIMINGS);
  });
});

describe('createSecretsProvider', () => {
  it('fetches once while initializing, then serves the cached value without a request', async () => {
    const c = clock();
    const provider = createSecretsProvider(env(), c);
    await provider.ready;
    expect(sm.calls).toEqual(['GetSecretValue']);
    expect(await provider()).toEqual({ ENGAGE_VOICE_TOKEN: TOKEN, WATSONX_AUDIO_SECRET: 'w-secret-cache-aa' });
    c.advance(299_000);
    await provider();
    expect(sm.calls).toEqual(['GetSecretValue']);
  });

  it('serves the cached value at once while a stalled refresh is in flight, and keeps it when the refresh times out', async () => {
    const c = clock();
    const provider = createSecretsProvider(env(), c);
    await provider.ready;
    sm.mode = 'stall';
    c.advance(301_000);
    expect((await provider()).ENGAGE_VOICE_TOKEN).toBe(TOKEN);
    // The refresh really is out there, held by the stalled stand-in, and a
    // request during its first attempt is answered from the cache.
    await expect.poll(() => sm.stalled(), { timeout: 2_000 }).toBe(1);
    expect((await provider()).ENGAGE_VOICE_TOKEN).toBe(TOKEN);
    expect(sm.calls).toEqual(['GetSecretValue', 'GetSecretValue']);
    expect(sm.stalled()).toBe(1);
    // Both attempts time out (hard limit), and the cached value stays.
    await expect.poll(() => sm.calls.length, { timeout: 6_000, interval: 100 }).toBe(3);
    await expect.poll(() => sm.stalled(), { timeout: 3_000 }).toBe(0);
    sm.mode = 'ok';
    sm.value = value('rotated-token-5c2e');
    expect((await provider()).ENGAGE_VOICE_TOKEN).toBe(TOKEN);
    await expect.poll(async () => (await provider()).ENGAGE_VOICE_TOKEN, { timeout: 3_000 }).toBe('rotated-token-5c2e');
  }, 15_000);

  it('past the staleness bound a request waits for the fetch, and a stalled one fails within the hard timeouts', async () => {
    const c = clock();
    const provider = createSecretsProvider(env({ SECRET_REFRESH_SECONDS: '60', SECRET_MAX_STALE_SECONDS: '120' }), c);
    await provider.ready;
    sm.mode = 'stall';
    c.advance(121_000);
    const started = performance.now();
    await expect(provider()).rejects.toThrow();
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThan(2_500);
    expect(waited).toBeLessThan(6_000);
  }, 15_000);

  it('never rejects its init when Secrets Manager fails; the first request fetches again', async () => {
    sm.mode = 'error';
    const provider = createSecretsProvider(env(), clock());
    await expect(provider.ready).resolves.toBeUndefined();
    expect(sm.calls).toEqual(['GetSecretValue', 'GetSecretValue']);
    sm.mode = 'ok';
    expect((await provider()).ENGAGE_VOICE_TOKEN).toBe(TOKEN);
  }, 15_000);

  it('refuses a secret that is not a JSON object', async () => {
    sm.value = 'plain text';
    const provider = createSecretsProvider(env(), clock());
    await provider.ready;
    await expect(provider()).rejects.toThrow(/not JSON/);
    sm.value = '[1]';
    await expect(provider()).rejects.toThrow(/not a JSON object/);
  });
});

describe('a handler in the AWS configuration', () => {
  it('completes a request on the cached value while Secrets Manager stalls, and answers 503 before any cached value exists', async () => {
    for (const name of SECRET_NAMES) delete process.env[name];
    Object.assign(process.env, { SECRET_ARN: sm.arn, SECRET_REFRESH_SECONDS: '1', ENGAGE_VOICE_TIMEZONE: 'UTC' });
    resetConfiguration();
    const deliver = () => handler(jsonEvent(fixture('agent-termination', { uii: freshUii() }), { query: { token: TOKEN } }));
    expect((await deliver()).statusCode).toBe(200);
    sm.mode = 'stall';
    await new Promise((r) => setTimeout(r, 1_100));
    const before = sm.calls.length;
    const res = await deliver();
    expect(res.statusCode).toBe(200);
    // Answered while the refresh's first attempt was still held open: it waited for nothing.
    expect(sm.calls.length).toBe(before + 1);
    expect(sm.stalled()).toBe(1);

    resetConfiguration();
    const cold = await deliver();
    expect(cold.statusCode).toBe(503);
    expect(JSON.parse(cold.body ?? '{}')).toMatchObject({ error: 'service_unavailable' });
  }, 20_000);

  it('answers 200, not 500, with an invalid SECRET_REFRESH_SECONDS, and says once what it uses instead', async () => {
    sm.mode = 'ok';
    for (const name of SECRET_NAMES) delete process.env[name];
    Object.assign(process.env, { SECRET_ARN: sm.arn, SECRET_REFRESH_SECONDS: 'five minutes', ENGAGE_VOICE_TIMEZONE: 'UTC' });
    resetConfiguration();
    const lines: Record<string, unknown>[] = [];
    const restore = setLogSink((l) => { lines.push(JSON.parse(l) as Record<string, unknown>); });
    try {
      for (let i = 0; i < 2; i++) {
        const res = await handler(jsonEvent(fixture('agent-termination', { uii: freshUii() }), { query: { token: TOKEN } }));
        expect(res.statusCode).toBe(200);
      }
    } finally {
      setLogSink(restore);
    }
    const warnings = lines.filter((l) => l.level === 'WARN' && String(l.message).startsWith('SECRET_REFRESH_SECONDS'));
    expect(warnings.map((w) => w.message)).toEqual(['SECRET_REFRESH_SECONDS must be a whole number of seconds, got "five minutes"; using the defaults (300 s refresh, 3600 s staleness bound)']);
  }, 20_000);
});
