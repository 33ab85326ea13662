import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as v from 'valibot';
import { decodeEvent, type WebhookRequest } from '#shared/request';
import { toApiGatewayEvent } from '../../lib/api-gateway.ts';

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

/** The event time of every Engage Voice test event (the tests' receivedAt). */
export const EVENT_TIME = new Date('2026-11-20T14:20:00Z');

export function apiEvent(opts: EventOptions = {}): APIGatewayProxyEventV2 {
  const query = opts.query ? new URLSearchParams(opts.query).toString() : '';
  const headers: [string, string][] = [['host', 'abc123.execute-api.us-east-1.amazonaws.com'], ['user-agent', 'RingCX-WebService/1.0'], ...Object.entries(opts.headers ?? {})];
  const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
  const event = toApiGatewayEvent({ method: opts.method ?? 'POST', target: `/engage-voice${query ? `?${query}` : ''}`, headers, body, now: EVENT_TIME });
  // `isBase64Encoded` forces the encoding, to test the decoder on a text type API Gateway would pass through.
  if (opts.isBase64Encoded && body !== undefined && !event.isBase64Encoded) {
    event.body = body.toString('base64');
    event.isBase64Encoded = true;
  }
  return event;
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
