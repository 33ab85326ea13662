import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setLogSink } from '#shared/log';
import { handler as audioWebhook } from '../../functions/audio-webhook/handler.ts';
import { handler as callCompleted } from '../../functions/call-completed/handler.ts';
import { hsJwt, toEvent } from '../fixtures/hostile/common.ts';
import { audioPart, metaPart, metadata, multipartBody } from '../fixtures/hostile/audio-webhook.ts';
import { ownStorage, writes } from '../hostile/support.ts';
import { deliveries, type Values } from '../support/deliveries.ts';

/**
 * During a rotation every secret and token has a current and a previous value
 * (`<NAME>_PREVIOUS`): a delivery passes on either, and one that passed on the
 * previous value is counted (AcceptedOnPreviousSecret metric, acceptedOnPrevious
 * log field, by source). watsonx also runs draft and live side by side, each
 * with its own secret, optionally bound to its environment_id.
 */

const OLD = {
  WATSONX_AUDIO_SECRET: 'rot-watsonx-old-1b7e4c0a9d2f',
  VOLUBILE_WEBHOOK_SECRET: 'rot-volubile-sig-old-5c8f1a4d7e0b',
  VOLUBILE_WEBHOOK_TOKEN: 'rot-volubile-tok-old-2e5b8c1f4a7d',
  SYNTHFLOW_WEBHOOK_SECRET: 'rot-synthflow-sig-old-9a2d5f8b1e4c',
  SYNTHFLOW_WEBHOOK_TOKEN: 'rot-synthflow-tok-old-6f9c2e5a8d1b',
  ENGAGE_VOICE_TOKEN: 'rot-engage-tok-old-3d6a9f2c5e8b',
  ENGAGE_VOICE_BASIC_AUTH: 'ringcx:rot-engage-pw-old-7b0e3a6d9c2f',
} as const;
const NEW: Values = {
  WATSONX_AUDIO_SECRET: 'rot-watsonx-new-4a1d7e0b3c6f',
  VOLUBILE_WEBHOOK_SECRET: 'rot-volubile-sig-new-8e1b4d7a0c3f',
  VOLUBILE_WEBHOOK_TOKEN: 'rot-volubile-tok-new-0c3f6a9d2b5e',
  SYNTHFLOW_WEBHOOK_SECRET: 'rot-synthflow-sig-new-1f4a7d0c3e6b',
  SYNTHFLOW_WEBHOOK_TOKEN: 'rot-synthflow-tok-new-5b8e1c4f7a0d',
  ENGAGE_VOICE_TOKEN: 'rot-engage-tok-new-9d2c5f8a1e4b',
  ENGAGE_VOICE_BASIC_AUTH: 'ringcx-new:rot-engage-pw-new-2a5d8b1e4c7f',
};

const lines: string[] = [];
let restore: ((line: string) => void) | undefined;
let store: { bucket: string; table: string };

function rotating(): Record<string, string> {
  return { ...NEW, ...Object.fromEntries(Object.entries(OLD).map(([k, v]) => [`${k}_PREVIOUS`, v])) };
}

beforeAll(async () => {
  store = await ownStorage('previous-values', rotating());
  restore = setLogSink((line) => { lines.push(line); });
});
afterAll(() => { if (restore) setLogSink(restore); });

function logged(predicate: (record: Record<string, unknown>) => boolean): Record<string, unknown>[] {
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter(predicate);
}

describe('current and previous values side by side', () => {
  it('every source accepts the new values without counting them as previous', async () => {
    lines.length = 0;
    for (const [source, run, input] of deliveries(NEW)) {
      expect((await run(toEvent(input))).statusCode, source).toBe(200);
    }
    expect(logged((r) => 'AcceptedOnPreviousSecret' in r)).toEqual([]);
    expect(logged((r) => r.message === 'delivery accepted')).toHaveLength(4);
    expect(logged((r) => 'acceptedOnPrevious' in r)).toEqual([]);
  });

  it('every source accepts the old values and counts each delivery by source, naming the credentials', async () => {
    lines.length = 0;
    for (const [source, run, input] of deliveries(OLD)) {
      expect((await run(toEvent(input))).statusCode, source).toBe(200);
    }
    const metrics = logged((r) => 'AcceptedOnPreviousSecret' in r);
    expect(metrics.map((m) => m.Source)).toEqual(['watsonx', 'volubile', 'synthflow', 'engage-voice']);
    expect(metrics[0]).toMatchObject({ _aws: { CloudWatchMetrics: [{ Dimensions: [['service', 'Source']], Metrics: [{ Name: 'AcceptedOnPreviousSecret' }] }] } });
    expect(logged((r) => r.message === 'delivery accepted').map((r) => r.acceptedOnPrevious)).toEqual([
      'WATSONX_AUDIO_SECRET',
      'VOLUBILE_WEBHOOK_TOKEN,VOLUBILE_WEBHOOK_SECRET',
      'SYNTHFLOW_WEBHOOK_TOKEN,SYNTHFLOW_WEBHOOK_SECRET',
      'ENGAGE_VOICE_TOKEN,ENGAGE_VOICE_BASIC_AUTH',
    ]);
  });

  it('a sender half way through (new token, old signature) passes and names only the old one', async () => {
    lines.length = 0;
    const [, , volubile] = deliveries({ ...NEW, VOLUBILE_WEBHOOK_SECRET: OLD.VOLUBILE_WEBHOOK_SECRET })[1]!;
    expect((await callCompleted(toEvent(volubile))).statusCode).toBe(200);
    expect(logged((r) => r.message === 'delivery accepted')[0]?.acceptedOnPrevious).toBe('VOLUBILE_WEBHOOK_SECRET');
  });

  it('a value that is neither current nor previous is refused, and nothing is written', async () => {
    const before = await writes(store.bucket, store.table);
    const wrong: Values = {
      WATSONX_AUDIO_SECRET: 'guessed-watsonx-0001', VOLUBILE_WEBHOOK_SECRET: 'guessed-volubile-sig', VOLUBILE_WEBHOOK_TOKEN: 'guessed-volubile-tok',
      SYNTHFLOW_WEBHOOK_SECRET: 'guessed-synthflow-sig', SYNTHFLOW_WEBHOOK_TOKEN: 'guessed-synthflow-tok', ENGAGE_VOICE_TOKEN: 'guessed-engage-tok',
      ENGAGE_VOICE_BASIC_AUTH: 'ringcx:guessed-pw-000',
    };
    for (const [source, run, input] of deliveries(wrong)) {
      expect((await run(toEvent(input))).statusCode, source).toBe(401);
    }
    // One wrong credential among right ones is still a 401.
    for (const name of ['VOLUBILE_WEBHOOK_SECRET', 'SYNTHFLOW_WEBHOOK_TOKEN', 'ENGAGE_VOICE_BASIC_AUTH'] as const) {
      const mixed = { ...NEW, [name]: wrong[name] };
      const index = name.startsWith('VOLUBILE') ? 1 : name.startsWith('SYNTHFLOW') ? 2 : 3;
      const [source, run, input] = deliveries(mixed)[index]!;
      expect((await run(toEvent(input))).statusCode, `${source} with a wrong ${name}`).toBe(401);
    }
    expect(await writes(store.bucket, store.table)).toBe(before);
  });
});

describe('watsonx draft and live against one endpoint', () => {
  const DRAFT = 'rot-draft-secret-6e9b2d5a8c1f';
  const LIVE = 'rot-live-secret-0a3d6f9c2e5b';
  const DRAFT_ENV = 'env-draft-7c1e';
  const LIVE_ENV = 'env-live-3f8a';

  async function configure(extra: Record<string, string>): Promise<void> {
    store = await ownStorage('watsonx-envs', { WATSONX_AUDIO_SECRET: DRAFT, WATSONX_AUDIO_SECRET_LIVE: LIVE, ...extra });
  }

  const recording = (secret: string, environmentId: string | undefined) => toEvent({
    target: '/audio-webhook',
    headers: { authorization: `Bearer ${hsJwt(secret)}`, 'content-type': 'multipart/form-data; boundary=hostileBoundary7MA4YWxkTrZu0gW' },
    body: multipartBody([metaPart(metadata({ recording_id: `env-${randomUUID()}`, environment_id: environmentId })), audioPart()]),
  });

  it('unbound: a JWT signed with either secret is accepted, any other is refused', async () => {
    await configure({});
    expect((await audioWebhook(recording(DRAFT, DRAFT_ENV))).statusCode).toBe(200);
    expect((await audioWebhook(recording(LIVE, LIVE_ENV))).statusCode).toBe(200);
    const wrong = await audioWebhook(recording('rot-neither-secret-5d2a', LIVE_ENV));
    expect([wrong.statusCode, JSON.parse(String(wrong.body)).error]).toEqual([401, 'invalid_signature']);
  });

  it('bound: each environment is accepted with its own secret, refused with the other one, and nothing is written', async () => {
    await configure({ WATSONX_DRAFT_ENVIRONMENT_ID: DRAFT_ENV, WATSONX_LIVE_ENVIRONMENT_ID: LIVE_ENV });
    expect((await audioWebhook(recording(DRAFT, DRAFT_ENV))).statusCode).toBe(200);
    expect((await audioWebhook(recording(LIVE, LIVE_ENV))).statusCode).toBe(200);
    const before = await writes(store.bucket, store.table);
    expect(before).toBeGreaterThan(0);
    for (const [secret, environmentId] of [[DRAFT, LIVE_ENV], [LIVE, DRAFT_ENV], [LIVE, undefined], [DRAFT, 'env-unknown-0000']] as const) {
      const res = await audioWebhook(recording(secret, environmentId));
      expect(res.statusCode, `${secret} for ${environmentId}`).toBe(401);
      expect(JSON.parse(String(res.body))).toMatchObject({ error: 'environment_mismatch' });
    }
    expect(await writes(store.bucket, store.table)).toBe(before);
  });

  it('bound, during a rotation of the live secret: live\'s previous value is accepted for live only', async () => {
    const OLD_LIVE = 'rot-live-old-secret-8b1e4a7d0c3f';
    await configure({ WATSONX_DRAFT_ENVIRONMENT_ID: DRAFT_ENV, WATSONX_LIVE_ENVIRONMENT_ID: LIVE_ENV, WATSONX_AUDIO_SECRET_LIVE_PREVIOUS: OLD_LIVE });
    lines.length = 0;
    expect((await audioWebhook(recording(OLD_LIVE, LIVE_ENV))).statusCode).toBe(200);
    expect(logged((r) => r.message === 'delivery accepted')[0]?.acceptedOnPrevious).toBe('WATSONX_AUDIO_SECRET_LIVE');
    expect((await audioWebhook(recording(OLD_LIVE, DRAFT_ENV))).statusCode).toBe(401);
  });

  it('one secret shared by both environments still satisfies either binding', async () => {
    await configure({ WATSONX_AUDIO_SECRET_LIVE: DRAFT, WATSONX_DRAFT_ENVIRONMENT_ID: DRAFT_ENV, WATSONX_LIVE_ENVIRONMENT_ID: LIVE_ENV });
    expect((await audioWebhook(recording(DRAFT, DRAFT_ENV))).statusCode).toBe(200);
    expect((await audioWebhook(recording(DRAFT, LIVE_ENV))).statusCode).toBe(200);
    expect((await audioWebhook(recording(DRAFT, 'env-other-1111'))).statusCode).toBe(401);
  });

  it('only a live secret configured: live works on its own', async () => {
    store = await ownStorage('watsonx-live-only', { WATSONX_AUDIO_SECRET_LIVE: LIVE });
    expect((await audioWebhook(recording(LIVE, LIVE_ENV))).statusCode).toBe(200);
    expect((await audioWebhook(recording(DRAFT, LIVE_ENV))).statusCode).toBe(401);
  });

  it('an expired JWT signed with a configured secret says expired, not "wrong secret"', async () => {
    await configure({});
    const res = await audioWebhook(toEvent({
      target: '/audio-webhook',
      headers: { authorization: `Bearer ${hsJwt(LIVE, { exp: 1 })}`, 'content-type': 'multipart/form-data; boundary=b' },
      body: 'x',
    }));
    expect(JSON.parse(String(res.body))).toMatchObject({ error: 'token_expired' });
  });
});
