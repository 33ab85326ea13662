import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LambdaHandler } from '#shared/handler';
import { setLogSink } from '#shared/log';
import { handler as audioWebhook } from '../../functions/audio-webhook/handler.ts';
import { handler as callCompleted } from '../../functions/call-completed/handler.ts';
import { handler as engageVoice } from '../../functions/engage-voice/handler.ts';
import { createLocalServer, type LocalServer } from '../../lib/local-server.ts';
import {
  HOSTILE_SECRETS, hsJwt, payloadBytes, synthflowSignature, toEvent, volubileSignature, watsonxAuth, type HttpInput, type Route,
} from '../fixtures/hostile/common.ts';
import { audioPart, metaPart, metadata, multipartBody } from '../fixtures/hostile/audio-webhook.ts';
import { audioWebhookCases } from '../fixtures/hostile/audio-webhook.ts';
import { synthflowCases, volubileCases } from '../fixtures/hostile/call-completed.ts';
import { engageVoiceCases } from '../fixtures/hostile/engage-voice.ts';
import { vapiCases } from '../fixtures/hostile/vapi.ts';
import { ownStorage, send } from '../hostile/support.ts';
import { deliveries } from '../support/deliveries.ts';

/**
 * Secret values never reach a log line. One run exercises every route, with
 * successes, duplicates, every hostile-corpus case and credential failures,
 * directly and through the local server; the whole captured log stream (the
 * handlers' JSON lines and EMF records, and the server's request lines) must
 * contain no secret, token, JWT, signature, or phone number in any format.
 */

const HANDLERS: Record<Route, LambdaHandler> = { 'audio-webhook': audioWebhook, volubile: callCompleted, synthflow: callCompleted, 'engage-voice': engageVoice, vapi: callCompleted };
const BASIC = 'ringcx:log-basic-password-6c2d';
/** A rotation in progress and a second watsonx environment: these values must stay out of the logs too. */
const ROTATING = {
  WATSONX_AUDIO_SECRET_PREVIOUS: 'log-watsonx-previous-9e2b7c4a1f',
  WATSONX_AUDIO_SECRET_LIVE: 'log-watsonx-live-secret-3c8f1a6d',
  WATSONX_AUDIO_SECRET_LIVE_PREVIOUS: 'log-watsonx-live-previous-7b0e4d',
  VOLUBILE_WEBHOOK_SECRET_PREVIOUS: 'log-volubile-previous-5a9c2e7f',
  SYNTHFLOW_WEBHOOK_SECRET_PREVIOUS: 'log-synthflow-previous-2e7c9b4d',
  SYNTHFLOW_WEBHOOK_TOKEN_PREVIOUS: 'log-synthflow-token-previous-6a1f',
  ENGAGE_VOICE_TOKEN_PREVIOUS: 'log-engage-token-previous-4c9e2b',
  ENGAGE_VOICE_BASIC_AUTH_PREVIOUS: 'ringcx-old:log-basic-previous-0d5a',
} as const;

/** The fixtures' phone numbers, as E.164, national digits and as the vendors wrote them. */
const PHONES = [
  '+33612345678', '33612345678', '0612345678', '612345678', '06 12 34 56 78',
  '+14155550123', '14155550123', '4155550123', '415 555 0123', '+1 415 555 0123', '415-555-0123',
  '+16175550142', '6175550142', '617-555-0142', '(617) 555-0142',
  '+18885550100', '8885550100', '888-555-0100',
];

const lines: string[] = [];
const needles = new Set<string>();
let server: LocalServer;
let restore: ((line: string) => void) | undefined;

/** Every credential a request carries becomes a needle. */
function remember(input: HttpInput): HttpInput {
  const h = input.headers ?? {};
  for (const name of ['authorization', 'x-webhook-signature', 'synthflow-signature', 'x-synthflow-signature', 'x-webhook-token', 'x-vapi-signature', 'x-vapi-secret']) {
    const value = h[name];
    if (value === undefined) continue;
    const bare = value.replace(/^(bearer|basic)\s+/i, '').trim();
    if (bare.length >= 12) needles.add(bare);
    const sig = bare.split('.')[2];
    if (sig && sig.length >= 12) needles.add(sig);
  }
  const token = new URL(input.target, 'http://x').searchParams.get('token');
  if (token && token.length >= 8) needles.add(token);
  return input;
}

beforeAll(async () => {
  await ownStorage('log-secrets', { ...HOSTILE_SECRETS, ENGAGE_VOICE_BASIC_AUTH: BASIC, ...ROTATING });
  for (const v of [...Object.values(HOSTILE_SECRETS), BASIC, BASIC.split(':')[1] ?? '', Buffer.from(BASIC).toString('base64')]) needles.add(v);
  for (const v of Object.values(ROTATING)) needles.add(v);
  for (const b of [ROTATING.ENGAGE_VOICE_BASIC_AUTH_PREVIOUS]) { needles.add(b.split(':')[1] ?? ''); needles.add(Buffer.from(b).toString('base64')); }
  restore = setLogSink((line) => { lines.push(line); });
  server = await createLocalServer({ host: '127.0.0.1', port: 0, log: (line) => lines.push(line) });
});

afterAll(async () => {
  await server?.close();
  if (restore) setLogSink(restore);
});

const basicHeader = { authorization: `Basic ${Buffer.from(BASIC).toString('base64')}` };
const vBody = payloadBytes('volubile/call-completed.json');
const sBody = payloadBytes('synthflow/call-completed.json');
const eBody = payloadBytes('engage-voice/agent-termination.json');

function successes(): [Route, HttpInput][] {
  return [
    ['audio-webhook', { target: '/audio-webhook', headers: { ...watsonxAuth(), 'content-type': 'multipart/form-data; boundary=hostileBoundary7MA4YWxkTrZu0gW' }, body: multipartBody([metaPart(metadata({ recording_id: 'log-rec-1' })), audioPart()]) }],
    ['volubile', { target: '/call-completed/volubile', headers: { 'content-type': 'application/json', 'x-webhook-signature': volubileSignature(vBody) }, body: vBody }],
    ['synthflow', { target: `/call-completed/synthflow?token=${HOSTILE_SECRETS.SYNTHFLOW_WEBHOOK_TOKEN}`, headers: { 'content-type': 'application/json', 'x-synthflow-signature': synthflowSignature('1711646262471x768387119913843100') }, body: sBody }],
    ['engage-voice', { target: `/engage-voice?token=${HOSTILE_SECRETS.ENGAGE_VOICE_TOKEN}`, headers: { 'content-type': 'application/json', ...basicHeader }, body: eBody }],
    ['engage-voice', { method: 'GET', target: `/engage-voice?token=${HOSTILE_SECRETS.ENGAGE_VOICE_TOKEN}&uii=202611201412050130040000999999&ani=6175550142&dnis=8885550100&agent_id=1004217`, headers: basicHeader }],
  ];
}

/** Accepted on previous values (counted, with the names logged) and on the live watsonx secret. */
function rotationSuccesses(): [Route, HttpInput][] {
  const previous = deliveries({
    WATSONX_AUDIO_SECRET: ROTATING.WATSONX_AUDIO_SECRET_PREVIOUS,
    VOLUBILE_WEBHOOK_SECRET: ROTATING.VOLUBILE_WEBHOOK_SECRET_PREVIOUS,
    VOLUBILE_WEBHOOK_TOKEN: 'unused-no-volubile-token-configured',
    SYNTHFLOW_WEBHOOK_SECRET: ROTATING.SYNTHFLOW_WEBHOOK_SECRET_PREVIOUS,
    SYNTHFLOW_WEBHOOK_TOKEN: ROTATING.SYNTHFLOW_WEBHOOK_TOKEN_PREVIOUS,
    ENGAGE_VOICE_TOKEN: ROTATING.ENGAGE_VOICE_TOKEN_PREVIOUS,
    ENGAGE_VOICE_BASIC_AUTH: ROTATING.ENGAGE_VOICE_BASIC_AUTH_PREVIOUS,
  });
  const live = deliveries({
    WATSONX_AUDIO_SECRET: ROTATING.WATSONX_AUDIO_SECRET_LIVE_PREVIOUS, VOLUBILE_WEBHOOK_SECRET: HOSTILE_SECRETS.VOLUBILE_WEBHOOK_SECRET,
    VOLUBILE_WEBHOOK_TOKEN: 'unused-no-volubile-token-configured', SYNTHFLOW_WEBHOOK_SECRET: HOSTILE_SECRETS.SYNTHFLOW_WEBHOOK_SECRET,
    SYNTHFLOW_WEBHOOK_TOKEN: HOSTILE_SECRETS.SYNTHFLOW_WEBHOOK_TOKEN, ENGAGE_VOICE_TOKEN: HOSTILE_SECRETS.ENGAGE_VOICE_TOKEN, ENGAGE_VOICE_BASIC_AUTH: BASIC,
  });
  const routes: Route[] = ['audio-webhook', 'volubile', 'synthflow', 'engage-voice'];
  const liveNow = { ...live[0]![2], headers: { ...live[0]![2].headers, authorization: `Bearer ${hsJwt(ROTATING.WATSONX_AUDIO_SECRET_LIVE)}` } };
  return [...previous.map(([, , input], i): [Route, HttpInput] => [routes[i]!, input]), ['audio-webhook', live[0]![2]], ['audio-webhook', liveNow]];
}

function authFailures(): [Route, HttpInput][] {
  return [
    ['audio-webhook', { target: '/audio-webhook', headers: { authorization: `Bearer ${hsJwt('wrong-secret-for-logs')}`, 'content-type': 'multipart/form-data; boundary=b' }, body: 'x' }],
    ['audio-webhook', { target: '/audio-webhook', headers: { authorization: `Bearer ${hsJwt(HOSTILE_SECRETS.WATSONX_AUDIO_SECRET, { exp: 1 })}`, 'content-type': 'multipart/form-data; boundary=b' }, body: 'x' }],
    ['volubile', { target: '/call-completed/volubile', headers: { 'content-type': 'application/json', 'x-webhook-signature': volubileSignature(vBody, 'not-the-secret') }, body: vBody }],
    ['synthflow', { target: '/call-completed/synthflow?token=wrong-synthflow-token-value', headers: { 'content-type': 'application/json', 'synthflow-signature': synthflowSignature('x') }, body: sBody }],
    ['engage-voice', { target: `/engage-voice?token=${HOSTILE_SECRETS.ENGAGE_VOICE_TOKEN.slice(0, -1)}x`, headers: { 'content-type': 'application/json', ...basicHeader }, body: eBody }],
    ['engage-voice', { target: `/engage-voice?token=${HOSTILE_SECRETS.ENGAGE_VOICE_TOKEN}`, headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from('ringcx:guessed-password-9f').toString('base64')}` }, body: eBody }],
  ];
}

describe('logs carry no secret, token, JWT, signature or phone number', () => {
  it('every route, success, duplicate, hostile input and failed authentication, direct and through the local server', async () => {
    const statuses = new Set<number>();
    const all: [Route, HttpInput][] = [
      ...successes(), ...successes(), // the second round is duplicates
      ...rotationSuccesses(),
      ...authFailures(),
      ...[...audioWebhookCases, ...volubileCases, ...synthflowCases, ...engageVoiceCases, ...vapiCases].map((c): [Route, HttpInput] => [c.route, c.request()]),
    ];
    for (const [route, input] of all) {
      const res = await HANDLERS[route](toEvent(remember(input)));
      statuses.add(res.statusCode ?? 0);
    }
    for (const [, input] of [...successes(), ...authFailures()]) {
      const reply = await send(server.url, remember({ ...input, target: input.target.replace('/engage-voice?', '/engage-voice?x=1&') }));
      statuses.add(reply.status);
    }
    // Unknown paths can carry anything a sender pasted: tokens and numbers.
    const leaky = `/call-completed/${HOSTILE_SECRETS.VOLUBILE_WEBHOOK_SECRET}/+14155550123?token=${HOSTILE_SECRETS.ENGAGE_VOICE_TOKEN}`;
    statuses.add((await send(server.url, remember({ target: leaky, body: '{}' }))).status);
    statuses.add((await send(server.url, remember({ target: `/call-completed/${HOSTILE_SECRETS.SYNTHFLOW_WEBHOOK_TOKEN}`, body: '{}' }))).status);

    expect([...statuses]).toEqual(expect.arrayContaining([200, 400, 401, 404, 405, 415]));
    // The rotation deliveries were accepted on previous values, and that was logged by name only.
    expect(lines.filter((l) => l.includes('"acceptedOnPrevious"')).length).toBeGreaterThanOrEqual(5);
    expect(lines.length).toBeGreaterThan(400);
    expect(needles.size).toBeGreaterThan(20);

    // The detector itself catches a planted leak of each kind.
    for (const planted of [`{"t":"${HOSTILE_SECRETS.ENGAGE_VOICE_TOKEN}"}`, '{"n":"617-555-0142"}', `{"a":"${hsJwt('k')}"}`, `{"s":"${volubileSignature('x')}"}`]) {
      expect(leaksIn([planted]).length, planted).toBeGreaterThan(0);
    }
    expect(leaksIn(lines)).toEqual([]);
  });
});

function leaksIn(logLines: string[]): string[] {
    const leaks: string[] = [];
    for (const line of logLines) {
      for (const needle of [...needles, ...PHONES]) if (line.includes(needle)) leaks.push(`${needle.slice(0, 12)}… in ${line.slice(0, 160)}`);
      // any JWT at all (three base64url segments starting with a JSON header)
      if (/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\./.test(line)) leaks.push(`JWT in ${line.slice(0, 160)}`);
      // 64-hex HMACs (SHA-256 content digests in S3 keys are not signatures; exclude lines naming a key)
      if (/\b[0-9a-f]{64}\b/.test(line) && !/raw\/|audio\//.test(line)) leaks.push(`hex digest in ${line.slice(0, 160)}`);
    }
    return leaks;
}
