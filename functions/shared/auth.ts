import { createHmac, timingSafeEqual, createHash } from 'node:crypto';
import { Unauthorized } from './errors.ts';
import type { WebhookRequest } from './request.ts';
import { previousName, type CredentialName, type Secrets } from './config.ts';

/**
 * Constant-time equality of two strings. Both sides are hashed first so the
 * comparison time depends on neither the length nor the content of the secret.
 */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && Buffer.byteLength(a) === Buffer.byteLength(b);
}

export function hmacSha256(secret: string, data: string | Buffer): Buffer {
  return createHmac('sha256', secret).update(data).digest();
}

/** The URL token of a request: `?token=` or the `x-webhook-token` header. */
export function presentedToken(req: WebhookRequest): string | undefined {
  return req.query.token ?? req.headers['x-webhook-token'];
}

/** Which configured value of a credential a delivery matched. */
export type Match = 'current' | 'previous';

/**
 * Runs `accepts` on the credential's current value and, during a rotation, on
 * its previous value (`<NAME>_PREVIOUS`). Both run whenever both are set, so
 * the time taken does not tell which one matched; `accepts` itself must compare
 * in constant time. Undefined when neither matches (or nothing is set).
 */
export function matchCredential(secrets: Secrets, name: CredentialName, accepts: (value: string) => boolean): Match | undefined {
  const current = secrets[name];
  const previous = secrets[previousName(name)];
  const currentOk = current !== undefined && accepts(current);
  const previousOk = previous !== undefined && accepts(previous);
  if (currentOk) return 'current';
  return previousOk ? 'previous' : undefined;
}

/** Throws 401 unless the request carries the URL token `name` (current or previous value). */
export function requireToken(req: WebhookRequest, secrets: Secrets, name: CredentialName): Match {
  const token = presentedToken(req);
  if (token === undefined || token === '') {
    throw new Unauthorized('missing URL token: add ?token=<token> to the webhook URL or send an X-Webhook-Token header', 'missing_token');
  }
  const match = matchCredential(secrets, name, (expected) => safeEqual(token, expected));
  if (!match) throw new Unauthorized('invalid URL token', 'invalid_token');
  return match;
}

/** The credentials of `matches` that a delivery passed on their previous value. */
export function onPrevious(matches: readonly (readonly [CredentialName, Match | undefined])[]): CredentialName[] {
  return matches.filter(([, m]) => m === 'previous').map(([name]) => name);
}

/**
 * Fail closed: a source with no check configured refuses every request, with a
 * message that says what to configure.
 */
export function requireSomeCheck(source: string, configured: boolean, variables: readonly string[]): void {
  if (!configured) {
    throw new Unauthorized(
      `no authentication is configured for ${source}: set ${variables.join(' or ')} on the server`,
      'auth_not_configured',
    );
  }
}
