import { describe, it, expect } from 'vitest';
import { SignJWT, UnsecuredJWT, generateKeyPair } from 'jose';
import { verifyJwt, bearerToken, MAX_TOKEN_BYTES } from '../../functions/audio-webhook/jwt.ts';
import { TEST_SECRET, signJwt } from './support.ts';

const now = () => Math.floor(Date.now() / 1000);

async function rejection(authorization: string | undefined, secret = TEST_SECRET): Promise<{ statusCode: number; code: string; message: string }> {
  try {
    await verifyJwt(authorization, secret);
  } catch (err) {
    const e = err as { statusCode: number; code: string; message: string };
    return { statusCode: e.statusCode, code: e.code, message: e.message };
  }
  throw new Error('expected a rejection');
}

describe('verifyJwt', () => {
  it.each(['HS256', 'HS384', 'HS512'] as const)('accepts a %s token signed with the secret', async (alg) => {
    const token = await signJwt(TEST_SECRET, alg, { exp: now() + 60 });
    await expect(verifyJwt(`Bearer ${token}`, TEST_SECRET)).resolves.toBeUndefined();
  });

  it('accepts a bare JWT and a lower-case bearer scheme', async () => {
    const token = await signJwt();
    await expect(verifyJwt(token, TEST_SECRET)).resolves.toBeUndefined();
    await expect(verifyJwt(`bearer   ${token}`, TEST_SECRET)).resolves.toBeUndefined();
  });

  it('does not require exp, iss or sub', async () => {
    const token = await new SignJWT({ foo: 'bar' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(TEST_SECRET));
    await expect(verifyJwt(token, TEST_SECRET)).resolves.toBeUndefined();
  });

  it('refuses a missing or empty Authorization header', async () => {
    expect(await rejection(undefined)).toMatchObject({ statusCode: 401, code: 'missing_token' });
    expect(await rejection('')).toMatchObject({ statusCode: 401, code: 'missing_token' });
    expect(await rejection('Bearer ')).toMatchObject({ statusCode: 401, code: 'missing_token' });
  });

  it('refuses alg none', async () => {
    const token = new UnsecuredJWT({ sub: 'x' }).encode();
    expect(await rejection(`Bearer ${token}`)).toMatchObject({ statusCode: 401, code: 'invalid_token' });
  });

  it.each(['RS256', 'ES256'] as const)('refuses a %s token even when its signature is valid', async (alg) => {
    const { privateKey } = await generateKeyPair(alg);
    const token = await new SignJWT({}).setProtectedHeader({ alg }).sign(privateKey);
    const r = await rejection(`Bearer ${token}`);
    expect(r).toMatchObject({ statusCode: 401, code: 'invalid_token' });
    expect(r.message).toContain('HS256');
  });

  it('refuses an altered signature and an altered payload', async () => {
    const token = await signJwt();
    const [h, p, s = ''] = token.split('.');
    const flipped = s.slice(0, -2) + (s.at(-2) === 'A' ? 'B' : 'A') + s.slice(-1);
    expect(await rejection(`${h}.${p}.${flipped}`)).toMatchObject({ statusCode: 401, code: 'invalid_signature' });
    const otherPayload = Buffer.from(JSON.stringify({ admin: true })).toString('base64url');
    expect(await rejection(`${h}.${otherPayload}.${s}`)).toMatchObject({ statusCode: 401, code: 'invalid_signature' });
  });

  it('refuses a token signed with another secret', async () => {
    const token = await signJwt('some-other-secret');
    expect(await rejection(`Bearer ${token}`)).toMatchObject({ statusCode: 401, code: 'invalid_signature' });
  });

  it('refuses an expired token, allowing 30 s of clock skew', async () => {
    const expired = await signJwt(TEST_SECRET, 'HS256', { exp: now() - 120 });
    expect(await rejection(`Bearer ${expired}`)).toMatchObject({ statusCode: 401, code: 'token_expired' });
    const justExpired = await signJwt(TEST_SECRET, 'HS256', { exp: now() - 10 });
    await expect(verifyJwt(`Bearer ${justExpired}`, TEST_SECRET)).resolves.toBeUndefined();
  });

  it('refuses a token whose nbf is in the future', async () => {
    const early = await signJwt(TEST_SECRET, 'HS256', { nbf: now() + 300 });
    expect(await rejection(`Bearer ${early}`)).toMatchObject({ statusCode: 401, code: 'token_not_yet_valid' });
  });

  it('refuses an oversized token before any crypto, and garbage', async () => {
    const huge = `Bearer ${'a'.repeat(MAX_TOKEN_BYTES)}.${'b'.repeat(10)}.c`;
    expect(() => bearerToken(huge)).toThrow(/longer than/);
    expect(await rejection(huge)).toMatchObject({ statusCode: 401, code: 'invalid_token' });
    expect(await rejection('Basic dXNlcjpwYXNz')).toMatchObject({ statusCode: 401, code: 'invalid_token' });
    expect(await rejection('Bearer not-a-jwt')).toMatchObject({ statusCode: 401, code: 'invalid_token' });
    expect(await rejection('Bearer a.b.c')).toMatchObject({ statusCode: 401, code: 'invalid_token' });
  });

  it('never echoes the token in its message', async () => {
    const token = await signJwt('wrong-secret');
    const r = await rejection(`Bearer ${token}`);
    expect(r.message).not.toContain(token.split('.')[2]);
    expect(r.message).not.toContain(token.split('.')[0]);
  });
});
