import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as v from 'valibot';
import { decodeEvent, type WebhookRequest } from '#shared/request';

/** Builds API Gateway HTTP API v2.0 events as AWS (and local mode) delivers them to /engage-voice. */

export const FIXTURES = new URL('../../events/payloads/engage-voice/', import.meta.url);

const FixtureSchema = v.record(v.string(), v.string());

/** A fixture (flat map of strings) with a fresh uii, so tests never collide on the shared table. */
export function fixture(name: string, overrides: Record<string, string> = {}): Record<string, string> {
  const parsed = v.parse(FixtureSchema, JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURES), 'utf8')));
  return { ...parsed, ...overrides };
}

/** A random 30-digit uii (never a number: it does not fit one). */
export function freshUii(): string {
  let s = String(randomInt(1, 10));
  while (s.length < 30) s += String(randomInt(0, 10));
  return s;
}

export interface EventOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  headers?: Record<string, string>;
  query?: Record<string, string>;
  body?: string | Buffer;
  isBase64Encoded?: boolean;
}

export function apiEvent(opts: EventOptions = {}): APIGatewayProxyEventV2 {
  const method = opts.method ?? 'POST';
  const rawQueryString = opts.query ? new URLSearchParams(opts.query).toString() : '';
  const queryStringParameters = opts.query && Object.keys(opts.query).length > 0 ? { ...opts.query } : undefined;
  let body: string | undefined;
  let isBase64Encoded = opts.isBase64Encoded ?? false;
  if (Buffer.isBuffer(opts.body)) {
    body = opts.body.toString('base64');
    isBase64Encoded = true;
  } else if (opts.body !== undefined) {
    body = isBase64Encoded ? Buffer.from(opts.body, 'utf8').toString('base64') : opts.body;
  }
  const headers: Record<string, string> = { host: 'abc123.execute-api.us-east-1.amazonaws.com', 'user-agent': 'RingCX-WebService/1.0' };
  for (const [k, val] of Object.entries(opts.headers ?? {})) headers[k.toLowerCase()] = val;
  return {
    version: '2.0',
    routeKey: 'ANY /engage-voice',
    rawPath: '/engage-voice',
    rawQueryString,
    headers,
    ...(queryStringParameters ? { queryStringParameters } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: { method, path: '/engage-voice', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
      requestId: `req-${randomInt(1e9)}`,
      routeKey: 'ANY /engage-voice',
      stage: '$default',
      time: '20/Nov/2026:14:20:00 +0000',
      timeEpoch: Date.parse('2026-11-20T14:20:00Z'),
    },
    ...(body !== undefined ? { body } : {}),
    isBase64Encoded,
  };
}

export function jsonEvent(fields: Record<string, unknown>, opts: EventOptions = {}): APIGatewayProxyEventV2 {
  return apiEvent({ ...opts, headers: { 'content-type': 'application/json', ...opts.headers }, body: JSON.stringify(fields) });
}

/** API Gateway base64-encodes form bodies (not a text type it passes through). */
export function formEvent(fields: Record<string, string>, opts: EventOptions = {}): APIGatewayProxyEventV2 {
  return apiEvent({
    ...opts,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...opts.headers },
    body: Buffer.from(new URLSearchParams(fields).toString(), 'utf8'),
  });
}

export function getEvent(fields: Record<string, string>, opts: EventOptions = {}): APIGatewayProxyEventV2 {
  return apiEvent({ ...opts, method: 'GET', query: { ...fields, ...opts.query } });
}

export function request(event: APIGatewayProxyEventV2): WebhookRequest {
  return decodeEvent(event);
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

const ResponseBody = v.looseObject({
  ok: v.optional(v.boolean()),
  outcome: v.optional(v.string()),
  callId: v.optional(v.string()),
  segment: v.optional(v.string()),
  error: v.optional(v.string()),
  message: v.optional(v.string()),
});

export function bodyOf(res: { body?: string }): v.InferOutput<typeof ResponseBody> {
  return v.parse(ResponseBody, JSON.parse(res.body ?? '{}'));
}
