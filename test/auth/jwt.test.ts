import { generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { handler } from '../../functions/audio-webhook/handler.ts';
import { HOSTILE_SECRETS, hsJwt, toEvent } from '../fixtures/hostile/common.ts';
import { audioPart, metaPart, metadata, multipartBody } from '../fixtures/hostile/audio-webhook.ts';
import { errorBody, ownStorage, writes } from '../hostile/support.ts';

/**
 * Attacks on the watsonx JWT, through the real audio-webhook handler with a
 * body that would otherwise be stored: every one is a 401 and writes nothing.
 */

const SECRET = HOSTILE_SECRETS.WATSONX_AUDIO_SECRET;
const now = () => Math.floor(Date.now() / 1000);
const b64url = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

let bucket = '';
let table = '';
let n = 0;
beforeAll(async () => {
  ({ bucket, table } = await ownStorage('auth-jwt'));
});

/** A fresh recording each time, so an accepted control is a real store, not a duplicate. */
function body(): Buffer {
  n += 1;
  return multipartBody([metaPart(metadata({ recording_id: `jwt-${n}-${Date.now()}` })), audioPart()]);
}

async function post(authorization: string | undefined) {
  const headers: Record<string, string> = { 'content-type': 'multipart/form-data; boundary=hostileBoundary7MA4YWxkTrZu0gW' };
  if (authorization !== undefined) headers.authorization = authorization;
  return handler(toEvent({ target: '/audio-webhook', headers, body: body() }));
}

async function expectRefused(authorization: string | undefined, code?: string): Promise<void> {
  const before = await writes(bucket, table);
  const res = await post(authorization);
  expect(res.statusCode, res.body).toBe(401);
  const parsed = errorBody(res.body);
  expect(parsed).toBeTypeOf('object');
  if (code && typeof parsed === 'object') expect(parsed.error).toBe(code);
  // The token never comes back in the answer.
  if (authorization && authorization.length > 20) expect(res.body).not.toContain(authorization.replace(/^bearer\s+/i, '').slice(0, 40));
  expect(await writes(bucket, table)).toBe(before);
}

function withAlg(alg: string, signature = ''): string {
  return `${b64url({ alg, typ: 'JWT' })}.${b64url({ iat: now() })}.${signature}`;
}

describe('watsonx JWT attacks → 401, nothing stored', () => {
  it('control: HS256/384/512 with the secret, "Bearer", "bearer" or bare, are accepted and stored', async () => {
    for (const auth of [`Bearer ${hsJwt(SECRET)}`, `bearer ${hsJwt(SECRET, {}, 'HS384')}`, hsJwt(SECRET, {}, 'HS512'), `Bearer ${hsJwt(SECRET, { exp: now() + 60, nbf: now() - 5 })}`]) {
      const before = await writes(bucket, table);
      const res = await post(auth);
      expect(res.statusCode, res.body).toBe(200);
      expect(await writes(bucket, table)).toBe(before + 3);
    }
  });

  it('alg "none" (no signature, or the HS256 signature kept)', async () => {
    await expectRefused(`Bearer ${withAlg('none')}`, 'invalid_token');
    await expectRefused(`Bearer ${withAlg('None')}`);
    await expectRefused(`Bearer ${withAlg('NONE')}`);
    const valid = hsJwt(SECRET).split('.');
    await expectRefused(`Bearer ${b64url({ alg: 'none', typ: 'JWT' })}.${valid[1]}.${valid[2]}`);
  });

  it('RS256 and ES256 tokens (public-key algorithms), and alg confusion (RS256 header, HMAC signature)', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await expectRefused(`Bearer ${await new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setIssuedAt().sign(rsa.privateKey)}`, 'invalid_token');
    await expectRefused(`Bearer ${await new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setIssuedAt().sign(ec.privateKey)}`);
    await expectRefused(`Bearer ${await new SignJWT({}).setProtectedHeader({ alg: 'PS256' }).setIssuedAt().sign(rsa.privateKey)}`);
    // alg confusion: header says RS256, signature is HMAC-SHA256 keyed with the shared secret
    await expectRefused(`Bearer ${hsJwt(SECRET, {}, 'HS256', { alg: 'RS256' })}`);
    const input = `${b64url({ alg: 'RS256', typ: 'JWT' })}.${b64url({ iat: now() })}`;
    await expectRefused(`Bearer ${input}.${cryptoSign('sha256', Buffer.from(input), rsa.privateKey).toString('base64url')}`);
  });

  it('stripped, altered or re-used signatures', async () => {
    const [h, p, s = ''] = hsJwt(SECRET).split('.');
    await expectRefused(`Bearer ${h}.${p}.`);
    await expectRefused(`Bearer ${h}.${p}`, 'invalid_token');
    const flipped = (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    await expectRefused(`Bearer ${h}.${p}.${flipped}`, 'invalid_signature');
    await expectRefused(`Bearer ${h}.${p}.${s.slice(0, -2)}`);
    // payload altered (a later exp), signature kept
    await expectRefused(`Bearer ${h}.${b64url({ iat: now(), exp: now() + 86_400, admin: true })}.${s}`, 'invalid_signature');
    // signature from another token signed with the secret
    const other = hsJwt(SECRET, { sub: 'other' }).split('.')[2];
    await expectRefused(`Bearer ${h}.${p}.${other}`);
  });

  it('the wrong secret: another source\'s secret, a prefix of the secret, the secret plus one character', async () => {
    await expectRefused(`Bearer ${hsJwt('some-other-secret')}`, 'invalid_signature');
    await expectRefused(`Bearer ${hsJwt(HOSTILE_SECRETS.VOLUBILE_WEBHOOK_SECRET)}`);
    await expectRefused(`Bearer ${hsJwt(SECRET.slice(0, -1))}`);
    await expectRefused(`Bearer ${hsJwt(`${SECRET}x`)}`);
    await expectRefused(`Bearer ${hsJwt('')}`);
  });

  it('expired (past the 30 s tolerance) and not yet valid (nbf in the future)', async () => {
    await expectRefused(`Bearer ${hsJwt(SECRET, { exp: now() - 120 })}`, 'token_expired');
    await expectRefused(`Bearer ${hsJwt(SECRET, { exp: 1 })}`, 'token_expired');
    await expectRefused(`Bearer ${hsJwt(SECRET, { nbf: now() + 600 })}`, 'token_not_yet_valid');
    await expectRefused(`Bearer ${hsJwt(SECRET, { exp: 'tomorrow' })}`);
    await expectRefused(`Bearer ${hsJwt(SECRET, { nbf: 'now' })}`);
  });

  it('a 1 MB token, and shapes that are not a bearer JWT', async () => {
    await expectRefused(`Bearer ${hsJwt(SECRET, { pad: 'x'.repeat(1024 * 1024) })}`, 'invalid_token');
    await expectRefused(undefined, 'missing_token');
    await expectRefused('', 'missing_token');
    await expectRefused('Bearer', 'missing_token');
    await expectRefused('Bearer    ');
    await expectRefused(`Basic ${Buffer.from(`watsonx:${SECRET}`).toString('base64')}`);
    await expectRefused(`Bearer ${hsJwt(SECRET)}, Bearer ${hsJwt(SECRET)}`); // two Authorization headers joined by API Gateway
    await expectRefused(`Bearer ${hsJwt(SECRET).replace('.', '.\n')}`);
    await expectRefused(`Bearer ${SECRET}`);
    await expectRefused(`Bearer ${hsJwt(SECRET, {}, 'HS256', { crit: ['x-unknown'], 'x-unknown': 1 })}`);
  });
});
