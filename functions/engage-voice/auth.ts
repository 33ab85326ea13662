import { Unauthorized } from '#shared/errors';
import { matchCredential, onPrevious, requireSomeCheck, requireToken, safeEqual, type Match } from '#shared/auth';
import type { CredentialName, Secrets } from '#shared/config';
import type { WebhookRequest } from '#shared/request';

/**
 * Engage Voice web services can carry a URL token (`?token=` or X-Webhook-Token)
 * and/or HTTP Basic credentials (the web service's user and password). A request
 * must pass every check that is configured; with none configured, every request
 * is refused (fail closed). 401 responses carry no WWW-Authenticate header: this
 * is a machine endpoint, not a browser login.
 */

export const ENGAGE_AUTH_VARIABLES = ['ENGAGE_VOICE_TOKEN', 'ENGAGE_VOICE_BASIC_AUTH'] as const;

export interface BasicCredentials {
  user: string;
  password: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** `Basic dXNlcjpwYXNz` → { user, password }; undefined for anything malformed. */
export function parseBasicAuthorization(header: string | undefined): BasicCredentials | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header);
  const b64 = m?.[1];
  if (b64 === undefined || b64.length % 4 === 1 || b64.length > 4096) return undefined;
  let decoded: string;
  try {
    decoded = utf8.decode(Buffer.from(b64, 'base64'));
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** The configured `user:password` (split at the first colon, as the header is). */
export function parseConfiguredBasic(value: string): BasicCredentials | undefined {
  const colon = value.indexOf(':');
  if (colon <= 0) return undefined;
  return { user: value.slice(0, colon), password: value.slice(colon + 1) };
}

/** Throws 401 unless the request's Basic credentials match ENGAGE_VOICE_BASIC_AUTH (current or previous value). */
export function requireBasic(req: WebhookRequest, secrets: Secrets): Match {
  const configured = [secrets.ENGAGE_VOICE_BASIC_AUTH, secrets.ENGAGE_VOICE_BASIC_AUTH_PREVIOUS];
  if (configured.some((value) => value !== undefined && !parseConfiguredBasic(value))) {
    throw new Unauthorized('ENGAGE_VOICE_BASIC_AUTH (and its _PREVIOUS value) on the server must have the form user:password', 'auth_misconfigured');
  }
  const header = req.headers.authorization;
  if (header === undefined || header.trim() === '') {
    throw new Unauthorized('missing HTTP Basic credentials: set the web service user and password', 'missing_basic_auth');
  }
  const presented = parseBasicAuthorization(header);
  if (!presented) throw new Unauthorized('malformed Authorization header: expected Basic base64(user:password)', 'invalid_basic_auth');
  const match = matchCredential(secrets, 'ENGAGE_VOICE_BASIC_AUTH', (value) => {
    const expected = parseConfiguredBasic(value);
    if (!expected) return false;
    // Both comparisons always run, so timing does not tell which one failed.
    const userOk = safeEqual(presented.user, expected.user);
    const passwordOk = safeEqual(presented.password, expected.password);
    return userOk && passwordOk;
  });
  if (!match) throw new Unauthorized('invalid HTTP Basic credentials', 'invalid_basic_auth');
  return match;
}

/** Every configured check must pass; returns the credentials that passed on their previous value. */
export function authenticateEngage(req: WebhookRequest, secrets: Secrets): CredentialName[] {
  const token = secrets.ENGAGE_VOICE_TOKEN;
  const basic = secrets.ENGAGE_VOICE_BASIC_AUTH;
  requireSomeCheck('engage-voice', token !== undefined || basic !== undefined, ENGAGE_AUTH_VARIABLES);
  const tokenMatch = token !== undefined ? requireToken(req, secrets, 'ENGAGE_VOICE_TOKEN') : undefined;
  const basicMatch = basic !== undefined ? requireBasic(req, secrets) : undefined;
  return onPrevious([['ENGAGE_VOICE_TOKEN', tokenMatch], ['ENGAGE_VOICE_BASIC_AUTH', basicMatch]]);
}
