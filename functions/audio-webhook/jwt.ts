import { webcrypto } from 'node:crypto';
import { jwtVerify, errors as joseErrors, type JWSHeaderParameters } from 'jose';
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

const HASH_OF: Record<string, string> = { HS256: 'SHA-256', HS384: 'SHA-384', HS512: 'SHA-512' };

/**
 * The verification key for a secret and algorithm, imported into WebCrypto once
 * and reused: jose would otherwise import the raw secret on every request.
 * Keyed by secret too, so a rotated secret (Secrets Manager refresh) gets its
 * own key; the cache stays tiny (three algorithms per live secret).
 */
const keys = new Map<string, Promise<webcrypto.CryptoKey>>();

function verificationKey(secret: string, header: JWSHeaderParameters): Promise<webcrypto.CryptoKey> {
  const alg = header.alg ?? '';
  const hash = HASH_OF[alg];
  if (!hash) throw new joseErrors.JOSEAlgNotAllowed('algorithm not allowed');
  const id = `${alg}\u0000${secret}`;
  let key = keys.get(id);
  if (!key) {
    if (keys.size >= 12) keys.clear();
    key = webcrypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash }, false, ['verify']);
    keys.set(id, key);
  }
  return key;
}

/** Verifies the request's JWT against the shared secret with jose; resolves to nothing, throws 401. */
export async function verifyJwt(authorization: string | undefined, secret: string, now: Date = new Date()): Promise<void> {
  const token = bearerToken(authorization);
  try {
    await jwtVerify(token, (header) => verificationKey(secret, header), {
      algorithms: [...JWT_ALGORITHMS],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      currentDate: now,
    });
  } catch (err) {
    throw toUnauthorized(err);
  }
}

function toUnauthorized(err: unknown): Unauthorized {
  if (err instanceof joseErrors.JWTExpired) {
    return new Unauthorized('the JWT has expired (exp is in the past)', 'token_expired');
  }
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return new Unauthorized('the JWT is not valid yet (nbf is in the future)', 'token_not_yet_valid');
    return new Unauthorized(`the JWT claim "${err.claim}" is invalid`, 'invalid_token');
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed || err instanceof joseErrors.JOSENotSupported) {
    return new Unauthorized(`the JWT algorithm is not accepted: use one of ${JWT_ALGORITHMS.join(', ')}`, 'invalid_token');
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
    return new Unauthorized('the JWT signature does not match the configured secret', 'invalid_signature');
  }
  return new Unauthorized('the JWT is malformed', 'invalid_token');
}
