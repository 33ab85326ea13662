import { createHmac, timingSafeEqual } from 'node:crypto';
import { Unauthorized } from '#shared/errors';

/**
 * watsonx Assistant signs each audio-webhook request with a JWT in the
 * Authorization header (`Bearer <jwt>`; a bare JWT is accepted too), HMAC-signed
 * with the secret configured in its console. Only HS256/384/512 are accepted:
 * a token naming `none` or a public-key algorithm is refused before any key is
 * used. `exp` and `nbf` are enforced when present (30 s clock tolerance);
 * iss/sub are not required. The token itself never reaches an error message
 * or a log line.
 */

export const JWT_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
export const MAX_TOKEN_BYTES = 8 * 1024;
export const CLOCK_TOLERANCE_SECONDS = 30;

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** The JWT from an Authorization header value, or a 401 saying what is wrong with it. */
export function bearerToken(authorization: string | undefined): string {
  const value = authorization?.trim() ?? '';
  if (value === '') {
    throw new Unauthorized('missing Authorization header: send "Authorization: Bearer <JWT>" signed with the configured secret', 'missing_token');
  }
  if (Buffer.byteLength(value) > MAX_TOKEN_BYTES) {
    throw new Unauthorized(`the Authorization header is longer than ${MAX_TOKEN_BYTES} bytes`, 'invalid_token');
  }
  const match = /^bearer(?:\s+(.*))?$/i.exec(value);
  const token = (match ? match[1] ?? '' : value).trim();
  if (token === '') throw new Unauthorized('the Authorization header holds no token after "Bearer"', 'missing_token');
  if (!JWT_SHAPE.test(token)) throw new Unauthorized('the Authorization header does not hold a JWT (header.payload.signature)', 'invalid_token');
  return token;
}

/**
 * Verifies the request's JWT against the shared secret; resolves to nothing, throws 401.
 *
 * node:crypto's HMAC, synchronously, instead of jose's jwtVerify: jose 6 goes
 * through WebCrypto (importKey on every call, then an async verify on the
 * libuv thread pool), ≈10× the CPU of an HMAC over a few hundred bytes and an
 * extra thread hop per request (bench/experiments/jwt-verify.ts); it also
 * kept jose in the bundle. The checks are jose's, in jose's order: header
 * (JSON object, no `crit`, `alg` one of HS256/384/512) → signature (constant
 * time, over the canonical base64url of the MAC) → claims set (JSON object;
 * `exp`/`nbf`/`iat` numbers when present; `exp` and `nbf` with 30 s of
 * tolerance).
 */
export async function verifyJwt(authorization: string | undefined, secret: string, now: Date = new Date()): Promise<void> {
  verifyJwtSync(bearerToken(authorization), secret, now);
}

const HASH_OF: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function decodeJsonObject(segment: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  return isObject(value) ? value : undefined;
}

export function verifyJwtSync(token: string, secret: string, now: Date = new Date()): void {
  const firstDot = token.indexOf('.');
  const lastDot = token.lastIndexOf('.');
  const header = decodeJsonObject(token.slice(0, firstDot));
  if (!header) throw new Unauthorized('the JWT is malformed', 'invalid_token');
  if (header.crit !== undefined) {
    throw new Unauthorized('the JWT header names critical extensions ("crit"), which are not supported', 'invalid_token');
  }
  const hash = typeof header.alg === 'string' && Object.hasOwn(HASH_OF, header.alg) ? HASH_OF[header.alg] : undefined;
  if (hash === undefined) {
    throw new Unauthorized(`the JWT algorithm is not accepted: use one of ${JWT_ALGORITHMS.join(', ')}`, 'invalid_token');
  }
  const expected = Buffer.from(createHmac(hash, secret).update(token.slice(0, lastDot)).digest('base64url'));
  const presented = Buffer.from(token.slice(lastDot + 1));
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
    throw new Unauthorized('the JWT signature does not match the configured secret', 'invalid_signature');
  }
  const claims = decodeJsonObject(token.slice(firstDot + 1, lastDot));
  if (!claims) throw new Unauthorized('the JWT is malformed', 'invalid_token');
  for (const claim of ['exp', 'nbf', 'iat'] as const) {
    if (claims[claim] !== undefined && typeof claims[claim] !== 'number') {
      throw new Unauthorized(`the JWT claim "${claim}" is invalid`, 'invalid_token');
    }
  }
  const seconds = Math.floor(now.getTime() / 1000);
  if (typeof claims.nbf === 'number' && claims.nbf > seconds + CLOCK_TOLERANCE_SECONDS) {
    throw new Unauthorized('the JWT is not valid yet (nbf is in the future)', 'token_not_yet_valid');
  }
  if (typeof claims.exp === 'number' && claims.exp <= seconds - CLOCK_TOLERANCE_SECONDS) {
    throw new Unauthorized('the JWT has expired (exp is in the past)', 'token_expired');
  }
}
