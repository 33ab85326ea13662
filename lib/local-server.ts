import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { sourceEntries } from '#shared/sources';
import { matchRoute, toApiGatewayEvent, eventBytes, newRequestId, type Route } from './api-gateway.ts';
import { createLambdaContext } from './lambda-context.ts';
import { loadHandler as defaultLoadHandler, type HandlerLoader } from './handlers.ts';

/**
 * Local mode's HTTP front door: what API Gateway (HTTP API) does in AWS.
 * Each request on a webhook route becomes a payload-format-2.0 event
 * (toApiGatewayEvent, shared with the events generator), is passed to the
 * same handler module Lambda runs, and the handler's result is mapped back
 * to an HTTP response. API Gateway's and Lambda's limits hold here too.
 */

export interface Limits {
  requestBytes: number;
  eventBytes: number;
  timeoutMs: number;
  headerBytes: number;
}

/** Bytes API Gateway counts against its header quota: the request line and every header value. */
function headerSize(method: string, target: string, httpVersion: string, rawHeaders: string[]): number {
  let size = Buffer.byteLength(`${method} ${target} HTTP/${httpVersion}`);
  for (let i = 1; i < rawHeaders.length; i += 2) size += Buffer.byteLength(rawHeaders[i] ?? '');
  return size;
}

/** API Gateway's and Lambda's limits: 10 MB request, 6 MB Lambda event, 30 s. */
export const LIMITS: Readonly<Limits> = {
  /** API Gateway HTTP API request payload. */
  requestBytes: 10 * 1024 * 1024,
  /** Lambda synchronous invocation payload, measured on the serialized event. */
  eventBytes: 6 * 1024 * 1024,
  /** API Gateway HTTP API integration timeout. */
  timeoutMs: 30_000,
  /** API Gateway HTTP API quota: request line plus header values, combined. */
  headerBytes: 10_240,
};

export interface DeliveryEvent {
  at: string;
  method: string;
  path: string;
  routeKey: string;
  source?: string;
  status: number;
  error?: string;
  message?: string;
  outcome?: string;
  callId?: string;
  ms: number;
}

export interface LocalServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  onDelivery?: (e: DeliveryEvent) => void;
  /** Consulted for non-webhook paths before the 404; resolves true when it answered the request. */
  extraRoutes?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean> | boolean;
  /** One line per request: method, path (no query), status, ms, error code. Defaults to stdout. */
  log?: (line: string) => void;
  /** Test seams: a different handler loader and smaller limits. */
  loadHandler?: HandlerLoader;
  limits?: Partial<Limits>;
}

export interface LocalServer {
  url: string;
  close(): Promise<void>;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

function jsonReply(status: number, error: string, message: string, extra: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...extra },
    body: Buffer.from(JSON.stringify({ error, message })),
  };
}

/** Maps a Lambda result to an HTTP response by the payload format 2.0 rules. */
export function mapResult(result: unknown): Reply {
  if (typeof result === 'object' && result !== null && 'statusCode' in result && typeof result.statusCode === 'number') {
    const headers: Record<string, string | string[]> = {};
    if ('headers' in result && typeof result.headers === 'object' && result.headers !== null) {
      for (const [k, v] of Object.entries(result.headers)) {
        if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') headers[k.toLowerCase()] = String(v);
      }
    }
    if ('cookies' in result && Array.isArray(result.cookies)) {
      const cookies = result.cookies.filter((c): c is string => typeof c === 'string');
      if (cookies.length > 0) headers['set-cookie'] = cookies;
    }
    const rawBody = 'body' in result && typeof result.body === 'string' ? result.body : '';
    const base64 = 'isBase64Encoded' in result && result.isBase64Encoded === true;
    return { status: result.statusCode, headers, body: Buffer.from(rawBody, base64 ? 'base64' : 'utf8') };
  }
  // No statusCode: API Gateway assumes 200, application/json, and the whole result as the body.
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(typeof result === 'string' ? result : JSON.stringify(result ?? null)),
  };
}

class TooLarge extends Error {}

/** Reads the body up to `limit` bytes; beyond it stops reading (nothing more is buffered) and rejects. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        chunks.length = 0;
        reject(new TooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => { cleanup(); resolve(Buffer.concat(chunks, size)); };
    const onError = (err: Error) => { cleanup(); reject(err); };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/**
 * After an early 413: discard (never buffer) what the client is still sending,
 * so it can read the answer instead of failing on a reset connection, then cut
 * the connection after `budget` more bytes or five seconds.
 */
function discardRest(req: IncomingMessage, budget: number): void {
  let discarded = 0;
  const cut = () => req.socket.destroy();
  const timer = setTimeout(cut, 5_000);
  timer.unref();
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > budget) cut();
  });
  req.once('end', () => clearTimeout(timer));
  req.socket.once('close', () => clearTimeout(timer));
  req.resume();
}

/** The request log shows the route, never what a sender may have put in an unknown path (tokens, numbers). */
export function loggablePath(path: string, route: Route | undefined): string {
  if (route) return path;
  // Unknown path: only a first segment that looks like a route name; never what follows (tokens, numbers).
  const [, first = '', ...rest] = path.split('/');
  const head = /^[A-Za-z][A-Za-z-]{0,23}$/.test(first) ? first : '…';
  return ['', head, ...rest.map(() => '…')].join('/');
}

function rawHeaderPairs(req: IncomingMessage): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) pairs.push([req.rawHeaders[i] ?? '', req.rawHeaders[i + 1] ?? '']);
  return pairs;
}

function parseJsonObject(body: Buffer): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return { ...parsed };
  } catch {
    // not JSON: nothing to report
  }
  return undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** `POST /audio-webhook, …, GET/POST /engage-voice`: every source's route, from the registry. */
const ROUTE_LIST = sourceEntries().map(([, d]) => `${d.methods.join('/')} ${d.path}`).join(', ');

export async function createLocalServer(opts: LocalServerOptions): Promise<LocalServer> {
  const limits = { ...LIMITS, ...opts.limits };
  const log = opts.log ?? ((line: string) => process.stdout.write(line + '\n'));
  const load = opts.loadHandler ?? defaultLoadHandler;

  const send = (res: ServerResponse, reply: Reply, close = false) => {
    if (res.headersSent) return;
    const headers: Record<string, string | string[]> = { ...reply.headers, 'content-length': String(reply.body.length) };
    if (close) headers.connection = 'close';
    res.writeHead(reply.status, headers);
    res.end(reply.body);
  };

  const invoke = async (route: Route, event: APIGatewayProxyEventV2): Promise<Reply> => {
    let handler;
    try {
      handler = await load(route.functionName);
    } catch (err) {
      log(`error: cannot load functions/${route.functionName}/handler.ts: ${err instanceof Error ? err.message : String(err)}`);
      return jsonReply(502, 'bad_gateway', `the ${route.functionName} function could not be loaded`);
    }
    const context = createLambdaContext({ functionName: route.functionName, timeoutMs: limits.timeoutMs, awsRequestId: event.requestContext.requestId });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), limits.timeoutMs); });
    try {
      const result = await Promise.race([handler(event, context), timeout]);
      if (result === 'timeout') {
        return jsonReply(503, 'service_unavailable', `the ${route.functionName} function did not answer within ${limits.timeoutMs / 1000} s (the API Gateway integration timeout)`);
      }
      return mapResult(result);
    } catch (err) {
      log(`error: functions/${route.functionName}/handler.ts threw ${err instanceof Error ? err.name : typeof err}`);
      return jsonReply(502, 'bad_gateway', `the ${route.functionName} function failed; see the server log`);
    } finally {
      clearTimeout(timer);
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = Date.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    const route = matchRoute(path);

    if (!route) {
      if (opts.extraRoutes && (await opts.extraRoutes(req, res))) return;
      const reply = jsonReply(404, 'not_found', `no route for ${method} ${loggablePath(path, undefined)}: use ${ROUTE_LIST}`);
      send(res, reply);
      req.resume();
      log(`${method} ${loggablePath(path, undefined)} 404 ${Date.now() - started}ms not_found`);
      return;
    }

    let reply: Reply;
    let close = false;
    const declared = Number(req.headers['content-length'] ?? '0');
    const headerBytes = headerSize(method, target, req.httpVersion, req.rawHeaders);
    if (headerBytes > limits.headerBytes) {
      reply = jsonReply(431, 'request_header_too_large', `request line and header values are ${headerBytes} bytes; API Gateway accepts at most ${limits.headerBytes}`);
      close = true;
    } else if (Number.isFinite(declared) && declared > limits.requestBytes) {
      reply = jsonReply(413, 'payload_too_large', `request body is ${declared} bytes; API Gateway accepts at most ${limits.requestBytes} bytes`);
      close = true;
    } else {
      let body: Buffer | undefined;
      try {
        body = await readBody(req, limits.requestBytes);
      } catch (err) {
        if (!(err instanceof TooLarge)) return; // the client went away
        close = true;
      }
      if (!body) {
        reply = jsonReply(413, 'payload_too_large', `request body is larger than the ${limits.requestBytes} bytes API Gateway accepts`);
      } else {
        const event = toApiGatewayEvent({
          method,
          target,
          headers: rawHeaderPairs(req),
          body,
          sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
          protocol: `HTTP/${req.httpVersion}`,
          requestId: newRequestId(),
        });
        const size = eventBytes(event);
        reply = size > limits.eventBytes
          ? jsonReply(413, 'payload_too_large', `the Lambda event for this request would be ${size} bytes; Lambda accepts at most ${limits.eventBytes} (about ${Math.floor(limits.eventBytes * 3 / 4 / 1024)} KiB of binary body after base64)`)
          : await invoke(route, event);
      }
    }

    // No `connection: close` after an early 413: Node would destroy the socket while the client is still
    // sending and the client would see a reset instead of the answer. The rest is discarded, then cut.
    send(res, reply);
    if (close) discardRest(req, 4 * limits.requestBytes);
    const ms = Date.now() - started;
    const parsed = reply.body.length < 64 * 1024 ? parseJsonObject(reply.body) : undefined;
    const error = str(parsed?.error);
    log(`${method} ${loggablePath(path, route)} ${reply.status} ${ms}ms${error ? ` ${error}` : ''}`);
    if (opts.onDelivery) {
      const source = str(parsed?.source) ?? route.source;
      const message = str(parsed?.message);
      const outcome = str(parsed?.outcome);
      const callId = str(parsed?.callId) ?? str(parsed?.sessionId);
      try {
        opts.onDelivery({
          at: new Date(started).toISOString(),
          method,
          path,
          routeKey: route.routeKey,
          ...(source ? { source } : {}),
          status: reply.status,
          ...(error ? { error } : {}),
          ...(message ? { message } : {}),
          ...(outcome ? { outcome } : {}),
          ...(callId ? { callId } : {}),
          ms,
        });
      } catch (err) {
        log(`error: onDelivery listener threw ${err instanceof Error ? err.name : typeof err}`);
      }
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log(`error: local server failed on a request: ${err instanceof Error ? err.name : typeof err}`);
      send(res, jsonReply(502, 'bad_gateway', 'the local server failed to handle the request'), true);
    });
  });
  server.requestTimeout = limits.timeoutMs + 30_000;
  // Requests Node's HTTP parser refuses before any handler runs (oversized
  // headers, malformed request lines) get the same JSON error body as the
  // rest of the API instead of Node's bare status line.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return;
    const overflow = err.code === 'HPE_HEADER_OVERFLOW';
    const status = overflow ? 431 : 400;
    const body = JSON.stringify(overflow
      ? { error: 'request_header_too_large', message: 'the request headers are too large: keep the request line and headers under 16 KB (API Gateway allows 10 KB)' }
      : { error: 'bad_request', message: 'the HTTP request is malformed' });
    socket.end(`HTTP/1.1 ${status} ${overflow ? 'Request Header Fields Too Large' : 'Bad Request'}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    log(`${overflow ? '431' : '400'} refused by the HTTP parser: ${err.code ?? 'unknown'}`);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => { server.off('error', reject); resolve(); });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host}:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
