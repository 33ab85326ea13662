import { describe, it, expect } from 'vitest';
import { HttpError } from '#shared/errors';
import type { Secrets } from '#shared/config';
import { authenticateEngage, parseBasicAuthorization } from '../../functions/engage-voice/auth.ts';
import { apiEvent, basic, request } from './support.ts';

const TOKEN = 'tok-engage-test-0123456789';
const BASIC = 'ringcx:s3cret:with:colons';

function reqWith(opts: { token?: string; tokenHeader?: string; authorization?: string }) {
  const headers: Record<string, string> = {};
  if (opts.tokenHeader !== undefined) headers['x-webhook-token'] = opts.tokenHeader;
  if (opts.authorization !== undefined) headers.authorization = opts.authorization;
  return request(apiEvent({ headers, ...(opts.token !== undefined ? { query: { token: opts.token } } : {}) }));
}

/** The 401 code a request gets, or 'ok'. */
function outcome(secrets: Secrets, opts: Parameters<typeof reqWith>[0]): string {
  try {
    authenticateEngage(reqWith(opts), secrets);
    return 'ok';
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    expect(err.statusCode).toBe(401);
    expect(err.headers).not.toHaveProperty('www-authenticate');
    return err.code;
  }
}

describe('engage-voice authentication', () => {
  it('fails closed when nothing is configured, naming both variables', () => {
    let message = '';
    try {
      authenticateEngage(reqWith({ token: TOKEN, authorization: basic('ringcx', 'x') }), {});
    } catch (err) {
      expect(err).toBeInstanceOf(HttpError);
      message = err instanceof Error ? err.message : '';
      expect(err instanceof HttpError && err.code).toBe('auth_not_configured');
    }
    expect(message).toContain('ENGAGE_VOICE_TOKEN');
    expect(message).toContain('ENGAGE_VOICE_BASIC_AUTH');
  });

  describe('token only', () => {
    const secrets: Secrets = { ENGAGE_VOICE_TOKEN: TOKEN };
    it('accepts ?token= and X-Webhook-Token', () => {
      expect(outcome(secrets, { token: TOKEN })).toBe('ok');
      expect(outcome(secrets, { tokenHeader: TOKEN })).toBe('ok');
    });
    it('refuses a missing, empty or wrong token', () => {
      expect(outcome(secrets, {})).toBe('missing_token');
      expect(outcome(secrets, { token: '' })).toBe('missing_token');
      expect(outcome(secrets, { token: `${TOKEN}x` })).toBe('invalid_token');
      expect(outcome(secrets, { token: TOKEN.slice(0, -1) })).toBe('invalid_token');
    });
    it('does not accept Basic credentials instead of the token', () => {
      expect(outcome(secrets, { authorization: basic('ringcx', TOKEN) })).toBe('missing_token');
    });
  });

  describe('Basic only', () => {
    const secrets: Secrets = { ENGAGE_VOICE_BASIC_AUTH: BASIC };
    it('accepts the right user and password (password may contain colons)', () => {
      expect(outcome(secrets, { authorization: basic('ringcx', 's3cret:with:colons') })).toBe('ok');
      expect(outcome(secrets, { authorization: `basic   ${Buffer.from(BASIC).toString('base64')}` })).toBe('ok');
    });
    it('refuses a missing header, another scheme, bad base64, no colon, wrong user or password', () => {
      expect(outcome(secrets, {})).toBe('missing_basic_auth');
      expect(outcome(secrets, { authorization: '' })).toBe('missing_basic_auth');
      expect(outcome(secrets, { authorization: `Bearer ${Buffer.from(BASIC).toString('base64')}` })).toBe('invalid_basic_auth');
      expect(outcome(secrets, { authorization: 'Basic !!!not base64!!!' })).toBe('invalid_basic_auth');
      expect(outcome(secrets, { authorization: 'Basic a' })).toBe('invalid_basic_auth');
      expect(outcome(secrets, { authorization: 'Basic ' })).toBe('invalid_basic_auth');
      expect(outcome(secrets, { authorization: `Basic ${Buffer.from('ringcxs3cret').toString('base64')}` })).toBe('invalid_basic_auth');
      expect(outcome(secrets, { authorization: `Basic ${Buffer.from([0xff, 0xfe, 0x3a, 0x41]).toString('base64')}` })).toBe('invalid_basic_auth');
      expect(outcome(secrets, { authorization: basic('RingCX', 's3cret:with:colons') })).toBe('invalid_basic_auth');
      expect(outcome(secrets, { authorization: basic('ringcx', 's3cret:with:colon') })).toBe('invalid_basic_auth');
      expect(outcome(secrets, { authorization: basic('', '') })).toBe('invalid_basic_auth');
    });
    it('does not accept the URL token instead of Basic credentials', () => {
      expect(outcome(secrets, { token: BASIC })).toBe('missing_basic_auth');
    });
    it('refuses every request when the configured value is not user:password', () => {
      expect(outcome({ ENGAGE_VOICE_BASIC_AUTH: 'no-colon' }, { authorization: basic('no-colon', '') })).toBe('auth_misconfigured');
    });
  });

  describe('both configured: every check must pass', () => {
    const secrets: Secrets = { ENGAGE_VOICE_TOKEN: TOKEN, ENGAGE_VOICE_BASIC_AUTH: BASIC };
    const good = basic('ringcx', 's3cret:with:colons');
    it('accepts token and Basic together', () => {
      expect(outcome(secrets, { token: TOKEN, authorization: good })).toBe('ok');
    });
    it('refuses either one alone or with the other wrong', () => {
      expect(outcome(secrets, { token: TOKEN })).toBe('missing_basic_auth');
      expect(outcome(secrets, { authorization: good })).toBe('missing_token');
      expect(outcome(secrets, { token: 'wrong', authorization: good })).toBe('invalid_token');
      expect(outcome(secrets, { token: TOKEN, authorization: basic('ringcx', 'wrong') })).toBe('invalid_basic_auth');
    });
  });

  it('parses Basic headers strictly', () => {
    expect(parseBasicAuthorization(basic('a', 'b:c'))).toEqual({ user: 'a', password: 'b:c' });
    expect(parseBasicAuthorization(basic('ünï', 'cödé'))).toEqual({ user: 'ünï', password: 'cödé' });
    expect(parseBasicAuthorization(undefined)).toBeUndefined();
    expect(parseBasicAuthorization('Basic YWJj')).toBeUndefined(); // "abc": no colon
    expect(parseBasicAuthorization(`Basic ${'A'.repeat(5000)}`)).toBeUndefined();
  });
});
