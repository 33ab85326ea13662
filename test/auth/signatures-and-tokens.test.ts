import { beforeAll, describe, expect, it } from 'vitest';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { resetConfiguration } from '#shared/handler';
import { SECRET_NAMES } from '#shared/config';
import { handler as callCompleted } from '../../functions/call-completed/handler.ts';
import { handler as engageVoice } from '../../functions/engage-voice/handler.ts';
import { handler as audioWebhook } from '../../functions/audio-webhook/handler.ts';
import { HOSTILE_SECRETS, hsJwt, payloadBytes, synthflowSignature, toEvent, volubileSignature, type HttpInput } from '../fixtures/hostile/common.ts';
import { audioPart, metaPart, multipartBody } from '../fixtures/hostile/audio-webhook.ts';
import { errorBody, ownStorage, writes } from '../hostile/support.ts';

/**
 * Attacks on the HMAC signatures (Volubile, Synthflow) and URL tokens / Basic
 * credentials (Synthflow, Volubile, Engage Voice), through the real handlers:
 * every one a 401 with a JSON body, nothing stored. Near misses have the same
 * length as the real value, so only a full comparison (safeEqual) rejects them.
 */

const S = HOSTILE_SECRETS;
let bucket = '';
let table = '';
beforeAll(async () => {
  ({ bucket, table } = await ownStorage('auth-sigs'));
});

/** Same length, one character different (last, first, middle). */
function nearMisses(value: string): string[] {
  const swap = (c: string) => (c === 'a' ? 'b' : 'a');
  const mid = Math.floor(value.length / 2);
  return [
    value.slice(0, -1) + swap(value.at(-1) ?? ''),
    swap(value[0] ?? '') + value.slice(1),
    value.slice(0, mid) + swap(value[mid] ?? '') + value.slice(mid + 1),
  ];
}

async function refused(input: HttpInput, code?: string, run = callCompleted): Promise<APIGatewayProxyStructuredResultV2> {
  const before = await writes(bucket, table);
  const res = await run(toEvent(input));
  expect(res.statusCode, `${input.target} ${res.body}`).toBe(401);
  const parsed = errorBody(res.body);
  expect(parsed).toBeTypeOf('object');
  if (code && typeof parsed === 'object') expect(parsed.error).toBe(code);
  expect(await writes(bucket, table)).toBe(before);
  return res;
}

// --- Volubile: X-Webhook-Signature = lowercase hex HMAC-SHA256(secret, raw body) ---

const vBody = payloadBytes('volubile/call-completed.json');
const volubile = (signature: string | undefined, body: Buffer | string = vBody, query = ''): HttpInput => ({
  target: `/call-completed/volubile${query}`,
  headers: { 'content-type': 'application/json', ...(signature !== undefined ? { 'x-webhook-signature': signature } : {}) },
  body,
});

describe('Volubile HMAC attacks → 401', () => {
  const good = volubileSignature(vBody);

  it('missing, empty, truncated, upper-case, prefixed or base64 signatures', async () => {
    await refused(volubile(undefined), 'missing_signature');
    await refused(volubile(''), 'missing_signature');
    await refused(volubile(good.slice(0, 32)), 'invalid_signature');
    await refused(volubile(good.slice(0, -1)));
    await refused(volubile(good.toUpperCase()));
    await refused(volubile(`sha256=${good}`));
    await refused(volubile(Buffer.from(good, 'hex').toString('base64')));
    await refused(volubile(`${good}00`));
    await refused(volubile(`${good},${good}`));
  });

  it('equal-length near misses of the real signature', async () => {
    for (const sig of nearMisses(good)) await refused(volubile(sig), 'invalid_signature');
  });

  it('a signature for another body (a different call, or the same JSON re-serialized)', async () => {
    const other = JSON.stringify({ ...JSON.parse(vBody.toString('utf8')), id: 'another-call-id' });
    await refused(volubile(volubileSignature(other)));
    const reserialized = JSON.stringify(JSON.parse(vBody.toString('utf8')));
    await refused(volubile(volubileSignature(reserialized)));
    await refused(volubile(volubileSignature('')));
  });

  it('a signature made with another provider\'s secret, or with the URL token', async () => {
    await refused(volubile(volubileSignature(vBody, S.SYNTHFLOW_WEBHOOK_SECRET)));
    await refused(volubile(volubileSignature(vBody, S.WATSONX_AUDIO_SECRET)));
    await refused(volubile(volubileSignature(vBody, S.SYNTHFLOW_WEBHOOK_TOKEN)));
  });
});

// --- Synthflow: URL token + base64 HMAC-SHA256(secret, call.call_id) ---

const sBody = payloadBytes('synthflow/call-completed.json');
const CALL_ID = '1711646262471x768387119913843100';
const synthflow = (token: string | undefined, signature: string | undefined, header = 'synthflow-signature'): HttpInput => ({
  target: `/call-completed/synthflow${token !== undefined ? `?token=${encodeURIComponent(token)}` : ''}`,
  headers: { 'content-type': 'application/json', ...(signature !== undefined ? { [header]: signature } : {}) },
  body: sBody,
});

describe('Synthflow token and signature attacks → 401', () => {
  const good = synthflowSignature(CALL_ID);

  it('missing, truncated, hex-encoded, case-flipped signatures, or one for another call / another secret', async () => {
    await refused(synthflow(S.SYNTHFLOW_WEBHOOK_TOKEN, undefined), 'missing_signature');
    await refused(synthflow(S.SYNTHFLOW_WEBHOOK_TOKEN, good.slice(0, 20)), 'invalid_signature');
    await refused(synthflow(S.SYNTHFLOW_WEBHOOK_TOKEN, Buffer.from(good, 'base64').toString('hex')));
    await refused(synthflow(S.SYNTHFLOW_WEBHOOK_TOKEN, good.toUpperCase()));
    await refused(synthflow(S.SYNTHFLOW_WEBHOOK_TOKEN, synthflowSignature('another-call-id')));
    await refused(synthflow(S.SYNTHFLOW_WEBHOOK_TOKEN, synthflowSignature(CALL_ID, S.VOLUBILE_WEBHOOK_SECRET)));
    await refused(synthflow(S.SYNTHFLOW_WEBHOOK_TOKEN, synthflowSignature(sBody.toString('utf8'))));
    for (const sig of nearMisses(good)) await refused(synthflow(S.SYNTHFLOW_WEBHOOK_TOKEN, sig, 'x-synthflow-signature'), 'invalid_signature');
  });

  it('tokens missing, wrong, partly right (prefix, suffix added, equal-length near misses, other case)', async () => {
    await refused(synthflow(undefined, good), 'missing_token');
    await refused(synthflow('', good), 'missing_token');
    await refused(synthflow('wrong', good), 'invalid_token');
    await refused(synthflow(S.SYNTHFLOW_WEBHOOK_TOKEN.slice(0, -4), good));
    await refused(synthflow(`${S.SYNTHFLOW_WEBHOOK_TOKEN}x`, good));
    await refused(synthflow(S.SYNTHFLOW_WEBHOOK_TOKEN.toUpperCase(), good));
    await refused(synthflow(S.VOLUBILE_WEBHOOK_SECRET, good));
    for (const t of nearMisses(S.SYNTHFLOW_WEBHOOK_TOKEN)) await refused(synthflow(t, good), 'invalid_token');
  });

  it('control: the right token and signature (any of the three header names) are accepted', async () => {
    for (const header of ['synthflow-signature', 'x-synthflow-signature', 'http_synthflow_signature']) {
      const res = await callCompleted(toEvent(synthflow(S.SYNTHFLOW_WEBHOOK_TOKEN, good, header)));
      expect(res.statusCode, res.body).toBe(200);
    }
  });
});

// --- Engage Voice: URL token and/or Basic ---

const eBody = payloadBytes('engage-voice/agent-termination.json');
const engage = (query: string, headers: Record<string, string> = {}): HttpInput => ({
  target: `/engage-voice${query}`, headers: { 'content-type': 'application/json', ...headers }, body: eBody,
});
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

describe('Engage Voice token and Basic attacks → 401', () => {
  it('tokens missing, wrong, partly right, in the wrong place', async () => {
    await refused(engage(''), 'missing_token', engageVoice);
    await refused(engage('?token='), 'missing_token', engageVoice);
    await refused(engage('?token=wrong'), 'invalid_token', engageVoice);
    await refused(engage(`?token=${S.ENGAGE_VOICE_TOKEN.slice(0, 10)}`), 'invalid_token', engageVoice);
    await refused(engage(`?token=${S.ENGAGE_VOICE_TOKEN}%00`), 'invalid_token', engageVoice);
    await refused(engage(`?token=%20${S.ENGAGE_VOICE_TOKEN}`), 'invalid_token', engageVoice);
    await refused(engage(`?tok=${S.ENGAGE_VOICE_TOKEN}`), 'missing_token', engageVoice);
    await refused(engage('', { authorization: `Bearer ${S.ENGAGE_VOICE_TOKEN}` }), 'missing_token', engageVoice);
    for (const t of nearMisses(S.ENGAGE_VOICE_TOKEN)) await refused(engage(`?token=${t}`), 'invalid_token', engageVoice);
    for (const t of nearMisses(S.ENGAGE_VOICE_TOKEN)) await refused(engage('', { 'x-webhook-token': t }), 'invalid_token', engageVoice);
  });

  it('with Basic configured too, every check must pass: Basic missing, wrong, swapped, near miss', async () => {
    process.env.ENGAGE_VOICE_BASIC_AUTH = 'ringcx:hostile-basic-password-1a2b';
    resetConfiguration();
    try {
      const q = `?token=${S.ENGAGE_VOICE_TOKEN}`;
      await refused(engage(q), 'missing_basic_auth', engageVoice);
      await refused(engage(q, basic('ringcx', 'wrong')), 'invalid_basic_auth', engageVoice);
      await refused(engage(q, basic('hostile-basic-password-1a2b', 'ringcx')), 'invalid_basic_auth', engageVoice);
      await refused(engage(q, basic('ringcy', 'hostile-basic-password-1a2b')), 'invalid_basic_auth', engageVoice);
      for (const p of nearMisses('hostile-basic-password-1a2b')) await refused(engage(q, basic('ringcx', p)), 'invalid_basic_auth', engageVoice);
      await refused(engage(q, { authorization: 'Basic not-base64!!' }), 'invalid_basic_auth', engageVoice);
      await refused(engage('', basic('ringcx', 'hostile-basic-password-1a2b')), 'missing_token', engageVoice);
      const ok = await engageVoice(toEvent(engage(q, basic('ringcx', 'hostile-basic-password-1a2b'))));
      expect(ok.statusCode, ok.body).toBe(200);
    } finally {
      delete process.env.ENGAGE_VOICE_BASIC_AUTH;
      resetConfiguration();
    }
  });
});

// --- Fail closed ---

describe('a source with nothing configured refuses everything', () => {
  it('with no secrets at all, even correctly-formed requests for every route are 401 auth_not_configured', async () => {
    for (const name of SECRET_NAMES) delete process.env[name];
    resetConfiguration();
    try {
      const audio = { target: '/audio-webhook', headers: { authorization: `Bearer ${hsJwt('')}`, 'content-type': 'multipart/form-data; boundary=hostileBoundary7MA4YWxkTrZu0gW' }, body: multipartBody([metaPart(), audioPart()]) };
      const cases: [HttpInput, typeof callCompleted][] = [
        [audio, audioWebhook],
        [{ ...audio, headers: { ...audio.headers, authorization: `Bearer ${hsJwt(S.WATSONX_AUDIO_SECRET)}` } }, audioWebhook],
        [volubile(volubileSignature(vBody)), callCompleted],
        [volubile(volubileSignature(vBody, '')), callCompleted],
        [volubile(undefined, vBody, '?token='), callCompleted],
        [synthflow('', synthflowSignature(CALL_ID, '')), callCompleted],
        [synthflow(S.SYNTHFLOW_WEBHOOK_TOKEN, synthflowSignature(CALL_ID)), callCompleted],
        [engage(''), engageVoice],
        [engage('?token='), engageVoice],
        [engage('?token=undefined', basic('', '')), engageVoice],
      ];
      for (const [input, run] of cases) {
        const res = await refused(input, 'auth_not_configured', run);
        expect(res.body).toMatch(/set [A-Z_]+/);
      }
    } finally {
      Object.assign(process.env, HOSTILE_SECRETS);
      resetConfiguration();
    }
  });

  it('whitespace-only secrets count as not configured', async () => {
    Object.assign(process.env, { VOLUBILE_WEBHOOK_SECRET: '   ', VOLUBILE_WEBHOOK_TOKEN: '' });
    resetConfiguration();
    try {
      await refused(volubile(volubileSignature(vBody, '   ')), 'auth_not_configured');
    } finally {
      Object.assign(process.env, HOSTILE_SECRETS);
      resetConfiguration();
    }
  });
});
