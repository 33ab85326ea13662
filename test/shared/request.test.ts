import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { decodeBase64Strict, decodeEvent, MAX_BODY_BYTES, MAX_EVENT_BYTES } from '#shared/request';
import { BadRequest, HttpError, PayloadTooLarge } from '#shared/errors';

/** The check decodeEvent used before (a regular expression, then the decode): the reference. */
const REFERENCE = /^[A-Za-z0-9+/]*={0,2}$/;

function event(body: string, isBase64Encoded = true): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'ANY /audio-webhook',
    rawPath: '/audio-webhook',
    rawQueryString: '',
    headers: { 'Content-Type': 'application/octet-stream' },
    requestContext: {
      accountId: 'local', apiId: 'local', domainName: '127.0.0.1', domainPrefix: '127', requestId: 'req-1',
      routeKey: 'ANY /audio-webhook', stage: '$default', time: '', timeEpoch: 0,
      http: { method: 'POST', path: '/audio-webhook', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
    },
    body,
    isBase64Encoded,
  };
}

function refusal(fn: () => unknown): HttpError | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof HttpError) return err;
    throw err;
  }
}

describe('decodeBase64Strict', () => {
  it.each([
    ['', ''],
    ['QQ==', 'A'],
    ['QUI=', 'AB'],
    ['QUJD', 'ABC'],
    ['QQ', 'A'],
    ['QUI', 'AB'],
    ['QQ=', 'A'],
    ['+/+/', '\u00fb\u00ff\u00bf'],
  ])('decodes valid base64 %j', (raw, latin1) => {
    expect(decodeBase64Strict(raw).toString('latin1')).toBe(latin1);
  });

  it('round-trips arbitrary bytes, padded or not', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, stripPadding) => {
      const b64 = Buffer.from(bytes).toString('base64');
      const raw = stripPadding ? b64.replace(/=+$/, '') : b64;
      expect(decodeBase64Strict(raw).equals(Buffer.from(bytes))).toBe(true);
    }));
  });

  it.each([
    ['a space', 'QU JD'],
    ['a newline at the end', 'QUJD\n'],
    ['a percent sign', 'QU%D'],
    ['padding only', '===='],
    ['three padding characters', 'QQ==='],
    ['padding in the middle', 'QQ==QQ=='],
    ['an equals sign inside', 'QQ=A'],
    ['only padding, three', '==='],
    ['a non-ASCII character', 'QUJé'],
  ])('refuses %s with a 400 invalid_encoding', (_what, raw) => {
    const err = refusal(() => decodeBase64Strict(raw));
    expect(err).toBeInstanceOf(BadRequest);
    expect(err?.statusCode).toBe(400);
    expect(err?.code).toBe('invalid_encoding');
  });

  it.each([['-'], ['_'], ['ab-_'], ['QUJD-A=='], ['QUJD_A==']])('refuses the URL-safe alphabet (%j), which Node alone would decode', (raw) => {
    expect(Buffer.from(raw, 'base64').length > 0 || raw.length < 4).toBe(true);
    expect(refusal(() => decodeBase64Strict(raw))?.code).toBe('invalid_encoding');
  });

  it.each([['Q'], ['QUJDR'], ['QUJDR='], ['QUJDR==']])('refuses a lone trailing character (%j): it encodes no byte', (raw) => {
    expect(REFERENCE.test(raw)).toBe(true); // the old regex let these through
    expect(refusal(() => decodeBase64Strict(raw))?.code).toBe('invalid_encoding');
  });

  it('accepts nothing the old regex refused, and decodes everything else it accepted to the same bytes', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ %\n\u00e9';
    const char = fc.oneof(
      { weight: 9, arbitrary: fc.constantFrom(...alphabet.slice(0, 64)) },
      { weight: 1, arbitrary: fc.constantFrom(...alphabet) },
    );
    fc.assert(fc.property(fc.array(char, { maxLength: 16 }), (chars) => {
      const raw = chars.join('');
      const ours = refusal(() => decodeBase64Strict(raw)) ? undefined : decodeBase64Strict(raw);
      if (!REFERENCE.test(raw)) {
        expect(ours).toBeUndefined();
        return;
      }
      const pad = raw.endsWith('==') ? 2 : raw.endsWith('=') ? 1 : 0;
      if ((raw.length - pad) % 4 === 1) {
        expect(ours).toBeUndefined();
        return;
      }
      expect(ours?.equals(Buffer.from(raw, 'base64'))).toBe(true);
    }), { numRuns: 20_000 });
  });
});

describe('decodeEvent body', () => {
  it('decodes a base64 body to the exact bytes', () => {
    const bytes = Buffer.from([0, 1, 2, 0xff, 0x7f, 0x80, 0xfe]);
    expect(decodeEvent(event(bytes.toString('base64'))).body.equals(bytes)).toBe(true);
  });

  it('refuses an invalid base64 body with a 400, not a 500', () => {
    const err = refusal(() => decodeEvent(event('not base64!')));
    expect(err?.statusCode).toBe(400);
    expect(err?.code).toBe('invalid_encoding');
  });

  it('keeps a text body as UTF-8 bytes without base64 checks', () => {
    expect(decodeEvent(event('QU JD é', false)).body.toString('utf8')).toBe('QU JD é');
  });

  it('refuses a base64 body decoding above MAX_BODY_BYTES with a 413', () => {
    const raw = Buffer.alloc(MAX_BODY_BYTES + 3).toString('base64');
    expect(raw.length).toBeLessThanOrEqual(MAX_EVENT_BYTES);
    const err = refusal(() => decodeEvent(event(raw)));
    expect(err).toBeInstanceOf(PayloadTooLarge);
    expect(err?.statusCode).toBe(413);
  });
});
