import { describe, expect, it } from 'vitest';
import { toApiGatewayEvent, matchRoute, queryParameters, requestTime, isTextContentType } from '../../lib/api-gateway.ts';

/**
 * The event shape AWS documents for HTTP API payload format 2.0
 * ("Create AWS Lambda proxy integrations for HTTP APIs in API Gateway"):
 * lower-cased headers, duplicates joined with commas, cookies in `cookies`,
 * rawQueryString verbatim, duplicate query keys joined with commas,
 * requestContext.http, base64 for non-text bodies.
 */

const at = new Date('2026-03-12T19:03:58.390Z');

function event(over: Partial<Parameters<typeof toApiGatewayEvent>[0]> = {}) {
  return toApiGatewayEvent({
    method: 'post',
    target: '/call-completed/volubile?token=a%2Bb&x=1&x=2&flag&name=J%C3%BCrgen+M',
    headers: [
      ['Host', 'abc.execute-api.eu-west-1.amazonaws.com'],
      ['Content-Type', 'application/json'],
      ['X-Custom', 'one'],
      ['x-custom', 'two'],
      ['Cookie', 'a=1; b=2'],
      ['cookie', 'c=3'],
      ['User-Agent', 'test-agent/1'],
    ],
    body: Buffer.from('{"id":"é"}'),
    sourceIp: '192.0.2.7',
    requestId: 'req-1',
    now: at,
    ...over,
  });
}

describe('toApiGatewayEvent (payload format 2.0)', () => {
  it('builds the documented top-level fields and the route key (one route per source, no path parameters)', () => {
    const e = event();
    expect(e.version).toBe('2.0');
    expect(e.routeKey).toBe('ANY /call-completed/volubile');
    expect(e.rawPath).toBe('/call-completed/volubile');
    expect(e.rawQueryString).toBe('token=a%2Bb&x=1&x=2&flag&name=J%C3%BCrgen+M');
    expect(e).not.toHaveProperty('pathParameters');
    expect(e.isBase64Encoded).toBe(false);
    expect(e.body).toBe('{"id":"é"}');
  });

  it('lower-cases headers, joins repeats with commas and moves every cookie to `cookies`', () => {
    const e = event();
    expect(e.headers['x-custom']).toBe('one,two');
    expect(e.headers['content-type']).toBe('application/json');
    expect(e.headers).not.toHaveProperty('cookie');
    expect(e.headers).not.toHaveProperty('Content-Type');
    expect(e.cookies).toEqual(['a=1', 'b=2', 'c=3']);
    expect(e.headers['x-forwarded-for']).toBe('192.0.2.7');
    expect(e.headers['x-forwarded-proto']).toBe('https');
  });

  it('decodes query values, joins repeated keys with commas', () => {
    expect(event().queryStringParameters).toEqual({ token: 'a+b', x: '1,2', flag: '', name: 'Jürgen M' });
    expect(event({ target: '/engage-voice' }).queryStringParameters).toBeUndefined();
    expect(queryParameters('')).toBeUndefined();
  });

  it('fills requestContext like API Gateway', () => {
    const rc = event().requestContext;
    expect(rc).toMatchObject({
      accountId: expect.stringMatching(/^\d{12}$/),
      apiId: expect.any(String),
      domainName: 'abc.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'abc',
      http: { method: 'POST', path: '/call-completed/volubile', protocol: 'HTTP/1.1', sourceIp: '192.0.2.7', userAgent: 'test-agent/1' },
      requestId: 'req-1',
      routeKey: 'ANY /call-completed/volubile',
      stage: '$default',
      time: '12/Mar/2026:19:03:58 +0000',
      timeEpoch: at.getTime(),
    });
    expect(requestTime(new Date('2026-01-05T03:04:05Z'))).toBe('05/Jan/2026:03:04:05 +0000');
  });

  it.each([
    ['application/json; charset=utf-8', false],
    ['text/plain', false],
    ['application/vnd.api+json', false],
    ['application/xml', false],
    ['application/x-www-form-urlencoded', true],
    ['multipart/form-data; boundary=x', true],
    ['application/octet-stream', true],
    ['audio/wav', true],
  ])('body with content type %s → isBase64Encoded %s, bytes preserved', (contentType, base64) => {
    const bytes = Buffer.from('a=1&b=%C3%A9 plus text');
    const e = event({ headers: [['content-type', contentType]], body: bytes });
    expect(e.isBase64Encoded).toBe(base64);
    expect(isTextContentType(contentType)).toBe(!base64);
    const decoded = e.isBase64Encoded ? Buffer.from(e.body ?? '', 'base64') : Buffer.from(e.body ?? '', 'utf8');
    expect(decoded.equals(bytes)).toBe(true);
  });

  it('base64-encodes a body without content type, and a "text" body that is not UTF-8', () => {
    expect(event({ headers: [], body: Buffer.from('x') }).isBase64Encoded).toBe(true);
    const latin1 = Buffer.from([0x7b, 0xe9, 0x7d]);
    const e = event({ body: latin1 });
    expect(e.isBase64Encoded).toBe(true);
    expect(Buffer.from(e.body ?? '', 'base64').equals(latin1)).toBe(true);
  });

  it('has no body key when there is no body', () => {
    const e = event({ method: 'GET', target: '/engage-voice?uii=1', body: undefined });
    expect(e).not.toHaveProperty('body');
    expect(e.isBase64Encoded).toBe(false);
    expect('body' in event({ body: Buffer.alloc(0) })).toBe(false);
  });

  it('routes exactly the stack routes', () => {
    expect(matchRoute('/audio-webhook')?.routeKey).toBe('ANY /audio-webhook');
    expect(matchRoute('/engage-voice')?.routeKey).toBe('ANY /engage-voice');
    expect(matchRoute('/call-completed/synthflow')).toEqual({ functionName: 'call-completed', routeKey: 'ANY /call-completed/synthflow', source: 'synthflow' });
    expect(matchRoute('/call-completed/vapi')).toEqual({ functionName: 'call-completed', routeKey: 'ANY /call-completed/vapi', source: 'vapi' });
    // An undeclared vendor has no route, exactly as the stack declares none for it.
    expect(matchRoute('/call-completed/other')).toBeUndefined();
    expect(matchRoute('/call-completed/')).toBeUndefined();
    expect(matchRoute('/audio-webhook/')).toBeUndefined();
    expect(matchRoute('/')).toBeUndefined();
    expect(event({ target: '/unknown' }).routeKey).toBe('$default');
  });
});
