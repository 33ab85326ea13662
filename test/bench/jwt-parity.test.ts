import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import { jwtVerify } from 'jose';
import { verifyJwt, JWT_ALGORITHMS, CLOCK_TOLERANCE_SECONDS } from '../../functions/audio-webhook/jwt.ts';
import { HttpError } from '#shared/errors';

// functions/audio-webhook/jwt.ts verifies HS256/384/512 with node:crypto
// (synchronous) instead of jose (WebCrypto, thread pool) for the hot path.
// Here both judge the same tokens: every token jose accepts we accept, every
// token jose refuses we refuse, on generated headers, claims and signatures.

const SECRET = 'parity-secret-not-a-real-one-0123456789';
const NOW = new Date('2026-11-21T10:00:00Z');
const NOW_S = Math.floor(NOW.getTime() / 1000);

function b64url(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64url');
}

function sign(header: unknown, payload: unknown, secret: string, hashAlg: string): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const hash = hashAlg === 'HS384' ? 'sha384' : hashAlg === 'HS512' ? 'sha512' : 'sha256';
  return `${input}.${createHmac(hash, secret).update(input).digest('base64url')}`;
}

async function joseAccepts(token: string): Promise<boolean> {
  try {
    await jwtVerify(token, new TextEncoder().encode(SECRET), { algorithms: [...JWT_ALGORITHMS], clockTolerance: CLOCK_TOLERANCE_SECONDS, currentDate: NOW });
    return true;
  } catch {
    return false;
  }
}

async function ours(token: string): Promise<true | HttpError> {
  try {
    await verifyJwt(`Bearer ${token}`, SECRET, NOW);
    return true;
  } catch (err) {
    if (err instanceof HttpError) return err;
    throw err;
  }
}

const claimValue = fc.oneof(
  fc.integer({ min: NOW_S - 120, max: NOW_S + 120 }),
  fc.constant('soon'),
  fc.constant(null),
  fc.double({ noNaN: true, min: NOW_S - 60, max: NOW_S + 60 }),
);

describe('verifyJwt agrees with jose', () => {
  it('on generated headers, claims, secrets and signatures', async () => {
    await fc.assert(fc.asyncProperty(
      fc.record({
        alg: fc.constantFrom('HS256', 'HS384', 'HS512', 'none', 'RS256', 'hs256'),
        signAlg: fc.constantFrom('HS256', 'HS384', 'HS512'),
        typ: fc.option(fc.constantFrom('JWT', 'at+jwt'), { nil: undefined }),
        crit: fc.boolean(),
        headerIsArray: fc.boolean(),
        exp: fc.option(claimValue, { nil: undefined }),
        nbf: fc.option(claimValue, { nil: undefined }),
        iat: fc.option(claimValue, { nil: undefined }),
        payloadIsArray: fc.boolean(),
        otherSecret: fc.boolean(),
        tamper: fc.constantFrom('none', 'signature', 'payload'),
      }),
      async (c) => {
        const header = c.headerIsArray ? ['HS256'] : { alg: c.alg, ...(c.typ ? { typ: c.typ } : {}), ...(c.crit ? { crit: ['exp'] } : {}) };
        const claims: Record<string, unknown> = { sub: 'x' };
        if (c.exp !== undefined) claims.exp = c.exp;
        if (c.nbf !== undefined) claims.nbf = c.nbf;
        if (c.iat !== undefined) claims.iat = c.iat;
        let token = sign(header, c.payloadIsArray ? [claims] : claims, c.otherSecret ? `${SECRET}x` : SECRET, c.signAlg);
        const [h = '', p = '', s = ''] = token.split('.');
        if (c.tamper === 'signature') token = `${h}.${p}.${s.slice(0, -2)}${s.endsWith('AA') ? 'BB' : 'AA'}`;
        if (c.tamper === 'payload') token = `${h}.${b64url('{"sub":"y"}')}.${s}`;
        const jose = await joseAccepts(token);
        const mine = await ours(token);
        expect(mine === true, `jose ${jose ? 'accepts' : 'refuses'} ${JSON.stringify(c)}`).toBe(jose);
        if (mine !== true) expect(mine.statusCode).toBe(401);
      },
    ), { numRuns: 600 });
  });

  it('refuses a signature with non-canonical trailing bits that decodes to the right MAC', async () => {
    const token = sign({ alg: 'HS256' }, { sub: 'x' }, SECRET, 'HS256');
    const [h = '', p = '', s = ''] = token.split('.');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(s.slice(-1));
    const altered = `${s.slice(0, -1)}${alphabet[last ^ 1] ?? 'A'}`;
    expect(Buffer.from(altered, 'base64url').equals(Buffer.from(s, 'base64url'))).toBe(true);
    const r = await ours(`${h}.${p}.${altered}`);
    expect(r === true ? 'accepted' : r.code).toBe('invalid_signature');
  });
});
