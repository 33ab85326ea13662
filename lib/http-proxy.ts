import { createServer, request as httpRequest, Agent, type IncomingHttpHeaders, type OutgoingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A loopback HTTP proxy in front of a real storage server (s3rver, dynalite):
 * it forwards every request unchanged (the SigV4 signature covers the proxy's
 * Host, which it keeps), holds each response `holdMs` before relaying it (an
 * in-region round trip, for the bench), and records what it saw: each request's
 * operation and headers, and the order of requests and responses across every
 * proxy in the process (one shared sequence), so tests can check write order,
 * concurrency and requests per delivery without timing anything.
 * `rewrite` lets a test change a response (a feature the server lacks);
 * `stallResponse` makes a write that landed look lost: the server has answered,
 * the client never hears it, times out and retries.
 */
export interface ProxiedRequest {
  /** Position in the process-wide sequence when the request body had arrived. */
  seq: number;
  /** Position when its response was relayed (undefined while in flight). */
  respondedSeq?: number;
  /** performance.now() when the request body had arrived, and when its response was relayed (the bench's storage wait). */
  arrivedAt: number;
  respondedAt?: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** DynamoDB operation (`PutItem`, `GetItem`…) from X-Amz-Target, else the HTTP method and path. */
  operation: string;
  body: Buffer;
  /** The server answered, the proxy kept the answer (stallResponse) until the client hung up. */
  stalled?: boolean;
}

export interface ProxiedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface HttpProxy {
  endpoint: string;
  holdMs: number;
  rewrite?: (req: ProxiedRequest, res: ProxiedResponse) => ProxiedResponse | Promise<ProxiedResponse>;
  /** Requests whose response, once the server has sent it, is never relayed: the client's own timeout ends them. */
  stallResponse?: (req: ProxiedRequest) => boolean;
  readonly requests: ProxiedRequest[];
  /** Most requests this proxy had in flight at once since the last reset. */
  readonly maxInFlight: number;
  reset(): void;
  close(): Promise<void>;
}

let sequence = 0;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'expect', 'upgrade', 'te', 'trailer']);

function forwardable(headers: IncomingHttpHeaders, bodyLength: number): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  out['content-length'] = String(bodyLength);
  return out;
}

function operationOf(method: string, path: string, headers: IncomingHttpHeaders): string {
  const target = headers['x-amz-target'];
  if (typeof target === 'string') return target.slice(target.lastIndexOf('.') + 1);
  return `${method} ${path.split('?')[0] ?? path}`;
}

export async function startHttpProxy(upstream: () => string, holdMs = 0): Promise<HttpProxy> {
  const agent = new Agent({ keepAlive: true });
  let inFlight = 0;
  let maxInFlight = 0;
  const requests: ProxiedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const method = req.method ?? 'GET';
      const path = req.url ?? '/';
      const seen: ProxiedRequest = { seq: ++sequence, arrivedAt: performance.now(), method, path, headers: req.headers, operation: operationOf(method, path, req.headers), body };
      requests.push(seen);
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const up = httpRequest(new URL(path, upstream()), { method, headers: forwardable(req.headers, body.length), agent }, (upRes) => {
        const upChunks: Buffer[] = [];
        upRes.on('data', (c: Buffer) => upChunks.push(c));
        upRes.on('end', () => {
          void (async () => {
            let out: ProxiedResponse = { status: upRes.statusCode ?? 502, headers: upRes.headers, body: Buffer.concat(upChunks) };
            // A rewrite emulates the server (a feature it lacks): it runs during the hold, not after it.
            const held = proxy.holdMs > 0 ? sleep(proxy.holdMs) : undefined;
            if (proxy.rewrite) out = await proxy.rewrite(seen, out);
            if (proxy.stallResponse?.(seen)) {
              seen.stalled = true;
              res.once('close', () => { inFlight -= 1; });
              return;
            }
            await held;
            inFlight -= 1;
            seen.respondedSeq = ++sequence;
            seen.respondedAt = performance.now();
            res.writeHead(out.status, forwardable(out.headers, out.body.length));
            res.end(out.body);
          })().catch(() => { inFlight -= 1; res.destroy(); });
        });
      });
      up.on('error', () => { inFlight -= 1; res.destroy(); });
      up.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const proxy: HttpProxy = {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    holdMs,
    requests,
    get maxInFlight() { return maxInFlight; },
    reset: () => { requests.length = 0; maxInFlight = inFlight; },
    close: () => new Promise<void>((resolve) => {
      agent.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  return proxy;
}

/**
 * A `rewrite` that gives dynalite DynamoDB's `ReturnValuesOnConditionCheckFailure:
 * ALL_OLD`: a failed conditional PutItem that asked for it gets the stored item
 * (read from the server behind the proxy with `getItem`) in its error body, as
 * DynamoDB sends it. Every other response passes unchanged.
 */
export function returnOldItemOnConditionFailure(
  getItem: (tableName: string, key: Record<string, unknown>) => Promise<unknown>,
): (req: ProxiedRequest, res: ProxiedResponse) => Promise<ProxiedResponse> {
  return async (req, res) => {
    if (req.operation !== 'PutItem' || res.status !== 400) return res;
    const input = JSON.parse(req.body.toString()) as { TableName?: string; ReturnValuesOnConditionCheckFailure?: string; Item?: Record<string, unknown> };
    const error = JSON.parse(res.body.toString()) as { __type?: string };
    if (input.ReturnValuesOnConditionCheckFailure !== 'ALL_OLD' || !error.__type?.endsWith('ConditionalCheckFailedException')) return res;
    const item = input.Item ?? {};
    const old = await getItem(input.TableName ?? '', { PK: item.PK, SK: item.SK });
    const { 'x-amz-crc32': _crc, ...headers } = res.headers;
    return { status: 400, headers, body: Buffer.from(JSON.stringify({ ...error, Item: old })) };
  };
}
