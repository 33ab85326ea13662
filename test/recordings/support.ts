import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { setLogSink } from '#shared/log';
import type { Recording } from '#shared/model';
import { getItem } from '../support/storage.ts';
import { DEPLOYED_POLICY, FetchError, type FetchPolicy } from '../../functions/recordings/fetch.ts';

/** Real audio bytes: the sample WAV of events/ and a real MP3. */
export const WAV = readFileSync(new URL('../../events/payloads/watsonx/recording.wav', import.meta.url));
export const MP3 = readFileSync(new URL('../fixtures/audio/sample.mp3', import.meta.url));

export type Route = (req: IncomingMessage, res: ServerResponse, n: number) => void;

/** A real HTTP server standing in for a vendor: routes by path, counts and keeps every request's headers. */
export interface Vendor {
  url: string;
  port: number;
  requests: { path: string; authorization?: string }[];
  route(path: string, r: Route): void;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startVendor(port = 0): Promise<Vendor> {
  const routes = new Map<string, Route>();
  const counts = new Map<string, number>();
  const requests: Vendor['requests'] = [];
  let server: Server | undefined;
  let actualPort = port;
  const listen = async () => {
    server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      requests.push({ path, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
      const n = (counts.get(path) ?? 0) + 1;
      counts.set(path, n);
      const r = routes.get(path);
      if (!r) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      r(req, res, n);
    });
    await new Promise<void>((resolve) => server!.listen(actualPort, '127.0.0.1', () => resolve()));
    actualPort = (server.address() as AddressInfo).port;
  };
  await listen();
  return {
    get url() { return `http://127.0.0.1:${actualPort}`; },
    get port() { return actualPort; },
    requests,
    route: (path, r) => { routes.set(path, r); counts.set(path, 0); },
    stop: async () => {
      const s = server;
      server = undefined;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    start: listen,
  };
}

export const serve = (bytes: Buffer, contentType = 'audio/wav'): Route => (_req, res) => {
  res.writeHead(200, { 'content-type': contentType, 'content-length': String(bytes.length) }).end(bytes);
};

export const status = (code: number, body = 'error'): Route => (_req, res) => {
  res.writeHead(code, { 'content-type': 'text/plain' }).end(body);
};

/** The first `n - 1` requests get `first`, later ones `then`. */
export const after = (n: number, first: Route, then: Route): Route => (req, res, i) => (i < n ? first : then)(req, res, i);

export const redirect = (location: string, code = 302): Route => (_req, res) => {
  res.writeHead(code, { location }).end();
};

export const basicOnly = (userPassword: string, then: Route): Route => (req, res, i) => {
  if (req.headers.authorization !== `Basic ${Buffer.from(userPassword).toString('base64')}`) {
    res.writeHead(401, { 'www-authenticate': 'Basic realm="recordings"' }).end('unauthorized');
    return;
  }
  then(req, res, i);
};

export const bearerOnly = (key: string, then: Route): Route => (req, res, i) => {
  if (req.headers.authorization !== `Bearer ${key}`) {
    res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
    return;
  }
  then(req, res, i);
};

/** Captures every JSON log line (metrics included) the code under test writes. */
export function captureLogs(): { lines: Record<string, unknown>[]; metrics(name: string): Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  setLogSink((line) => { lines.push(JSON.parse(line) as Record<string, unknown>); });
  return { lines, metrics: (name) => lines.filter((l) => name in l && '_aws' in l) };
}

export async function recordingOf(source: string, callId: string, sk: string, index = 0): Promise<Recording | undefined> {
  const item = await getItem(source, callId, sk);
  return (item?.record as { recordings: Recording[] } | undefined)?.recordings[index];
}

/** Polls until `check` returns a value (not undefined), or fails after `ms`. */
export async function eventually<T>(check: () => Promise<T | undefined>, ms = 20_000, what = 'condition'): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export type { APIGatewayProxyEventV2 };

/** The deployed fetch policy with loopback allowed (the vendor stand-in listens on 127.0.0.1) and short timeouts. */
export const LOOPBACK_POLICY: FetchPolicy = { ...DEPLOYED_POLICY, addresses: 'allow-loopback', idleTimeoutMs: 1_000, connectTimeoutMs: 1_000 };

/** The FetchError a fetch ends with; any other outcome fails the test. */
export async function fetchFailure(p: Promise<unknown>): Promise<FetchError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof FetchError) return err;
    throw err;
  }
  throw new Error('expected the fetch to fail');
}
