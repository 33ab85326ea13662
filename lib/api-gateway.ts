import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { HANDLER_NAMES, SOURCE_REGISTRY, sourceOfPath, type HandlerName, type Registry } from '#shared/sources';

/**
 * The one implementation of "what API Gateway (HTTP API, payload format 2.0)
 * hands to Lambda for this request". The local server, the events generator
 * and the replay tool all go through it, so a generated event, a local request
 * and a deployed request look the same to a handler.
 *
 * Format 2.0 (AWS docs, "Create AWS Lambda proxy integrations for HTTP APIs"):
 * header names lower-cased, duplicate headers joined with commas, every Cookie
 * header moved to `cookies`, `rawQueryString` verbatim, duplicate query keys
 * joined with commas in `queryStringParameters` (omitted when there are none),
 * `requestContext.http` with method/path/protocol/sourceIp/userAgent, and a
 * body that is base64 with `isBase64Encoded: true` unless it is text.
 */

export const FUNCTION_NAMES = HANDLER_NAMES;
export type FunctionName = HandlerName;

export function isFunctionName(value: string): value is FunctionName {
  return (FUNCTION_NAMES as readonly string[]).includes(value);
}

export interface Route {
  functionName: FunctionName;
  /** `ANY <path>`: the stack's route key (one route per source; the handler answers 405 for other methods). */
  routeKey: string;
  /** The source a delivery on this route is for. */
  source: string;
}

/** The stack's routes, one per source of the registry. Trailing slashes do not match (API Gateway does not match them either). */
export function matchRoute(path: string, registry: Registry = SOURCE_REGISTRY): Route | undefined {
  const source = sourceOfPath(path, registry);
  const declaration = source === undefined ? undefined : registry[source];
  if (source === undefined || declaration === undefined) return undefined;
  return { functionName: declaration.handler, routeKey: `ANY ${declaration.path}`, source };
}

/** An HTTP request as it arrives at API Gateway. */
export interface GatewayRequest {
  method: string;
  /** Request target: path plus `?query`, as on the request line. */
  target: string;
  /** Header pairs in arrival order, names in any case; repeats allowed. */
  headers: readonly (readonly [string, string])[];
  /** Absent or empty: no body. */
  body?: Uint8Array | undefined;
  sourceIp?: string;
  /** e.g. `HTTP/1.1` */
  protocol?: string;
  requestId?: string;
  now?: Date;
}

export const LOCAL_API_ID = 'local';
export const LOCAL_ACCOUNT_ID = '123456789012';

/** Content types API Gateway passes as text; everything else (form-urlencoded included) is base64. */
export function isTextContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  if (type.startsWith('text/')) return true;
  if (type === 'application/json' || type === 'application/xml' || type === 'application/javascript') return true;
  return /^application\/[a-z0-9.!#$&^_-]+\+(json|xml)$/.test(type);
}

// ignoreBOM: a leading U+FEFF stays in the string, so the bytes the handler sees (and signs, and archives) are the bytes sent.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function asUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `requestContext.time`: `dd/MMM/yyyy:HH:mm:ss +0000`. */
export function requestTime(at: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(at.getUTCDate())}/${MONTHS[at.getUTCMonth()]}/${at.getUTCFullYear()}:${p(at.getUTCHours())}:${p(at.getUTCMinutes())}:${p(at.getUTCSeconds())} +0000`;
}

function decodeQueryComponent(s: string): string {
  try {
    return decodeURIComponent(s.replaceAll('+', ' '));
  } catch {
    return s;
  }
}

/** `queryStringParameters`: decoded values, repeated keys joined with commas; undefined when empty. */
export function queryParameters(rawQueryString: string): Record<string, string> | undefined {
  if (rawQueryString === '') return undefined;
  const out: Record<string, string> = {};
  for (const pair of rawQueryString.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decodeQueryComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decodeQueryComponent(pair.slice(eq + 1));
    out[key] = key in out ? `${out[key]},${value}` : value;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function traceId(at: Date): string {
  return `Root=1-${Math.floor(at.getTime() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;
}

/** API Gateway's request id shape, e.g. `JdP3kgKkIAMEJxg=`. */
export function newRequestId(): string {
  return randomBytes(10).toString('base64');
}

export function toApiGatewayEvent(request: GatewayRequest): APIGatewayProxyEventV2 {
  const now = request.now ?? new Date();
  const q = request.target.indexOf('?');
  const rawPath = q < 0 ? request.target : request.target.slice(0, q);
  const rawQueryString = q < 0 ? '' : request.target.slice(q + 1);
  const route = matchRoute(rawPath);
  const method = request.method.toUpperCase();
  const sourceIp = request.sourceIp ?? '127.0.0.1';

  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [rawName, value] of request.headers) {
    const name = rawName.toLowerCase();
    if (name === 'cookie') {
      for (const c of value.split(';')) if (c.trim() !== '') cookies.push(c.trim());
      continue;
    }
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  // What API Gateway adds in front of the integration.
  headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${sourceIp}` : sourceIp;
  headers['x-forwarded-port'] ??= '443';
  headers['x-forwarded-proto'] ??= 'https';
  headers['x-amzn-trace-id'] ??= traceId(now);

  const host = headers.host ?? `${LOCAL_API_ID}.execute-api.us-east-1.amazonaws.com`;
  const domainName = host.replace(/:\d+$/, '');
  const queryStringParameters = queryParameters(rawQueryString);
  const routeKey = route?.routeKey ?? '$default';

  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(queryStringParameters ? { queryStringParameters } : {}),
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: LOCAL_API_ID,
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      http: {
        method,
        path: rawPath,
        protocol: request.protocol ?? 'HTTP/1.1',
        sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: request.requestId ?? newRequestId(),
      routeKey,
      stage: '$default',
      time: requestTime(now),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: false,
  };

  const body = request.body;
  if (body && body.byteLength > 0) {
    const text = isTextContentType(headers['content-type']) ? asUtf8(body) : undefined;
    if (text !== undefined) {
      event.body = text;
    } else {
      event.body = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64');
      event.isBase64Encoded = true;
    }
  }
  return event;
}

/** Serialized size of an event, as Lambda measures its 6 MB invocation payload limit. */
export function eventBytes(event: APIGatewayProxyEventV2): number {
  return Buffer.byteLength(JSON.stringify(event));
}
