import { createHmac, timingSafeEqual, createHash } from 'node:crypto';
import { Unauthorized } from './errors.ts';
import type { WebhookRequest } from './request.ts';

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

/** Throws 401 unless the request carries the configured URL token. */
export function requireToken(req: WebhookRequest, expected: string): void {
  const token = presentedToken(req);
  if (token === undefined || token === '') {
    throw new Unauthorized('missing URL token: add ?token=<token> to the webhook URL or send an X-Webhook-Token header', 'missing_token');
  }
  if (!safeEqual(token, expected)) throw new Unauthorized('invalid URL token', 'invalid_token');
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
