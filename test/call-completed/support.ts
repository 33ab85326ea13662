import { readFileSync } from 'node:fs';
import { createHmac, randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { decodeEvent, type WebhookRequest } from '#shared/request';
import type { InterpretContext } from '#shared/model';
import { afterAll, beforeAll } from 'vitest';
import { resetConfiguration } from '#shared/handler';
import { setLogSink } from '#shared/log';
import { toApiGatewayEvent } from '../../lib/api-gateway.ts';

/** Fixtures live once, in events/payloads/<vendor>/. */
export function fixture(vendor: 'volubile' | 'synthflow' | 'vapi', name: string): Record<string, unknown> {
  const parsed: unknown = JSON.parse(readFileSync(new URL(`../../events/payloads/${vendor}/${name}`, import.meta.url), 'utf8'));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`fixture ${name} is not an object`);
  return { ...parsed };
}

export function fixtureBytes(vendor: 'volubile' | 'synthflow' | 'vapi', name: string): Buffer {
  return readFileSync(new URL(`../../events/payloads/${vendor}/${name}`, import.meta.url));
}

/** A fresh id in the vendor's style (Synthflow: `<ms>x<digits>`), safe as a key segment. */
export function freshId(): string {
  return randomUUID();
}

export const volubileSig = (secret: string, body: string | Buffer) => createHmac('sha256', secret).update(body).digest('hex');
export const synthflowSig = (secret: string, callId: string) => createHmac('sha256', secret).update(callId).digest('base64');
/** Vapi HMAC credential: hex HMAC-SHA256 of `<timestamp>.<body>` with a timestamp, else of the body. */
export const vapiSig = (secret: string, body: string | Buffer, timestamp?: string, algorithm = 'sha256', encoding: 'hex' | 'base64' = 'hex') =>
  createHmac(algorithm, secret).update(timestamp === undefined ? body : Buffer.concat([Buffer.from(`${timestamp}.`), Buffer.from(body)])).digest(encoding);

export interface EventInput {
  provider?: string;
  /** Overrides rawPath (default /call-completed/<provider>). */
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  query?: string;
  body?: string | Buffer;
  base64?: boolean;
  /** Leave pathParameters out, as a proxy without route parameters would. */
  noPathParameters?: boolean;
}

/** An API Gateway HTTP API v2.0 event, as AWS (and local mode) would build it. */
export function apiEvent(input: EventInput): APIGatewayProxyEventV2 {
  const provider = input.provider ?? 'volubile';
  const rawPath = input.path ?? `/call-completed/${provider}`;
  const query = input.query ? `?${input.query}` : '';
  const headers = Object.entries({ 'content-type': 'application/json', 'user-agent': 'vitest', ...input.headers });
  const body = input.body === undefined ? undefined : Buffer.from(input.body);
  const event = toApiGatewayEvent({ method: input.method ?? 'POST', target: rawPath + query, headers, body });
  // API Gateway's encoding follows the content type; `base64` forces one to test the decoder.
  if (input.base64 !== undefined && body !== undefined && input.base64 !== event.isBase64Encoded) {
    event.body = input.base64 ? body.toString('base64') : body.toString();
    event.isBase64Encoded = input.base64;
  }
  if (input.noPathParameters) delete event.pathParameters;
  else event.pathParameters ??= { provider };
  return event;
}

export function request(input: EventInput): WebhookRequest {
  return decodeEvent(apiEvent(input));
}

export const ctx: InterpretContext = {
  engageTimeZone: 'UTC',
  defaultPhoneRegion: 'FR',
  receivedAt: new Date('2030-01-01T00:00:00Z'),
};

/**
 * The handler tests' setup: `configure(values)` unsets every one of `vars`,
 * sets `values` and forgets the cached configuration (a new cold start); the
 * returned `logs` collect every log line of the file. After the file, the
 * previous log sink is back and `vars` are unset.
 */
export function handlerTestSetup<N extends string>(vars: readonly N[]): { configure: (values: Partial<Record<N, string>>) => void; logs: string[] } {
  const configure = (values: Partial<Record<N, string>>) => {
    for (const name of vars) delete process.env[name];
    Object.assign(process.env, values);
    resetConfiguration();
  };
  const logs: string[] = [];
  let previousSink: ((line: string) => void) | undefined;
  beforeAll(() => {
    previousSink = setLogSink((line) => logs.push(line));
  });
  afterAll(() => {
    if (previousSink) setLogSink(previousSink);
    configure({});
  });
  return { configure, logs };
}
