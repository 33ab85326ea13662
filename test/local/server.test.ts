import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { resetConfiguration } from '#shared/handler';
import { createLocalServer, type DeliveryEvent, type LocalServer } from '../../lib/local-server.ts';
import { loadHandler } from '../../lib/handlers.ts';
import type { FunctionName } from '../../lib/api-gateway.ts';

/** The local server's API Gateway behaviour: limits, errors, result mapping, logs. */

const MB = 1024 * 1024;
let server: LocalServer;
const lines: string[] = [];
const deliveries: DeliveryEvent[] = [];
const invoked: FunctionName[] = [];
let captured: APIGatewayProxyEventV2 | undefined;
let mode: 'real' | 'capture' | 'throw' | 'slow' | 'bare' = 'real';

beforeAll(async () => {
  resetConfiguration();
  process.env.VOLUBILE_WEBHOOK_SECRET = 'server-test-volubile-secret';
  process.env.VOLUBILE_WEBHOOK_TOKEN = 'server-test-token-7f3a';
  server = await createLocalServer({
    host: '127.0.0.1',
    port: 0,
    log: (line) => lines.push(line),
    onDelivery: (e) => deliveries.push(e),
    limits: { timeoutMs: 300 },
    extraRoutes: (req, res) => {
      if (req.url !== '/inbox') return false;
      res.writeHead(200, { 'content-type': 'text/plain' }).end('inbox');
      return true;
    },
    loadHandler: async (name) => {
      invoked.push(name);
      if (mode === 'real') return loadHandler(name);
      return async (event) => {
        captured = event;
        if (mode === 'throw') throw new Error('boom');
        if (mode === 'slow') await new Promise((r) => setTimeout(r, 1_000));
        if (mode === 'bare') return { hello: 'world' } as never;
        return { statusCode: 201, headers: { 'x-a': 'b' }, cookies: ['s=1; Path=/', 't=2'], body: Buffer.from([0, 1, 2, 255]).toString('base64'), isBase64Encoded: true };
      };
    },
  });
});

afterAll(async () => {
  await server.close();
});

/** Streams `total` bytes in 1 MiB chunks; resolves with the status as soon as a response arrives. */
function streamUpload(path: string, total: number, declareLength: boolean): Promise<{ status: number; sent: number; body: string }> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = httpRequest(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', ...(declareLength ? { 'content-length': String(total) } : {}) },
    }, (res) => {
      answered = true;
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, sent, body }));
    });
    req.on('error', (err) => { if (!answered) reject(err); });
    const chunk = Buffer.alloc(MB, 0x61);
    const pump = () => {
      while (!answered && sent < total && !req.destroyed) {
        sent += chunk.length;
        if (!req.write(chunk)) { req.once('drain', pump); return; }
      }
      if (sent >= total && !answered) req.end();
    };
    pump();
  });
}

describe('local server', () => {
  it('answers 413 for a declared body over 10 MB without reading it', async () => {
    mode = 'real';
    const before = invoked.length;
    const r = await streamUpload('/call-completed/volubile', 200 * MB, true);
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body)).toMatchObject({ error: 'payload_too_large' });
    expect(r.sent).toBeLessThan(50 * MB);
    expect(invoked.length).toBe(before);
  });

  it('answers 413 for a chunked body once it passes 10 MB, without buffering the rest', async () => {
    const before = invoked.length;
    const r = await streamUpload('/call-completed/volubile', 200 * MB, false);
    expect(r.status).toBe(413);
    expect(r.sent).toBeLessThan(100 * MB);
    expect(invoked.length).toBe(before);
  });

  it('answers 413 when the Lambda event would exceed 6 MB (5 MB of binary is 6.7 MB of base64)', async () => {
    const before = invoked.length;
    const res = await fetch(`${server.url}/call-completed/volubile`, {
      method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(5 * MB, 1),
    });
    expect(res.status).toBe(413);
    const body = await res.json();
    expect(body).toMatchObject({ error: 'payload_too_large', message: expect.stringMatching(/Lambda/) });
    expect(invoked.length).toBe(before);
  });

  it('answers 431 JSON above API Gateway\'s 10,240-byte header quota, below Node\'s own 16 KB limit', async () => {
    const before = invoked.length;
    const res = await fetch(`${server.url}/call-completed/volubile`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-padding': 'p'.repeat(12 * 1024) }, body: '{}',
    });
    expect(res.status).toBe(431);
    expect(await res.json()).toMatchObject({ error: 'request_header_too_large', message: expect.stringMatching(/10240/) });
    expect(invoked.length).toBe(before);
    const justUnder = await fetch(`${server.url}/call-completed/volubile`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-padding': 'p'.repeat(9 * 1024) }, body: '{}',
    });
    expect(justUnder.status).not.toBe(431);
  });

  it('answers 404 JSON for an unknown route and lets extraRoutes answer first', async () => {
    const res = await fetch(`${server.url}/nope?token=zzz`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: 'not_found', message: expect.any(String) });
    const inbox = await fetch(`${server.url}/inbox`);
    expect(inbox.status).toBe(200);
    expect(await inbox.text()).toBe('inbox');
  });

  it('passes a wrong method to the handler, which answers 405', async () => {
    mode = 'real';
    const res = await fetch(`${server.url}/call-completed/volubile`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(await res.json()).toMatchObject({ error: 'method_not_allowed' });
    expect(deliveries.at(-1)).toMatchObject({ method: 'GET', status: 405, error: 'method_not_allowed', routeKey: 'ANY /call-completed/volubile', source: 'volubile' });
  });

  it('builds the event from the real request: raw headers, cookies, query, route key', async () => {
    mode = 'capture';
    const headers = new Headers([['x-dup', 'a'], ['x-dup', 'b'], ['cookie', 'k=v; m=n'], ['content-type', 'application/x-www-form-urlencoded']]);
    const res = await fetch(`${server.url}/call-completed/synthflow?a=1&a=2&b=%20x`, { method: 'POST', headers, body: 'uii=1&x=%C3%A9' });
    expect(res.status).toBe(201);
    const e = captured!;
    expect(e.routeKey).toBe('ANY /call-completed/synthflow');
    expect(e).not.toHaveProperty('pathParameters');
    expect(e.rawQueryString).toBe('a=1&a=2&b=%20x');
    expect(e.queryStringParameters).toEqual({ a: '1,2', b: ' x' });
    expect(e.headers['x-dup']).toBe('a, b');
    expect(e.cookies).toEqual(['k=v', 'm=n']);
    expect(e.isBase64Encoded).toBe(true);
    expect(Buffer.from(e.body!, 'base64').toString()).toBe('uii=1&x=%C3%A9');
    expect(e.requestContext.http).toMatchObject({ method: 'POST', path: '/call-completed/synthflow', sourceIp: '127.0.0.1', protocol: 'HTTP/1.1' });
  });

  it('maps a structured result back: status, headers, cookies, base64 body', async () => {
    mode = 'capture';
    const res = await fetch(`${server.url}/engage-voice`);
    expect(res.status).toBe(201);
    expect(res.headers.get('x-a')).toBe('b');
    expect(res.headers.getSetCookie()).toEqual(['s=1; Path=/', 't=2']);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(captured).not.toHaveProperty('body');
  });

  it('maps a result without statusCode to 200 JSON', async () => {
    mode = 'bare';
    const res = await fetch(`${server.url}/engage-voice`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ hello: 'world' });
  });

  it('answers 502 JSON when the handler throws, and 503 when it exceeds the timeout', async () => {
    mode = 'throw';
    const thrown = await fetch(`${server.url}/audio-webhook`, { method: 'POST' });
    expect(thrown.status).toBe(502);
    expect(await thrown.json()).toMatchObject({ error: 'bad_gateway' });
    mode = 'slow';
    const slow = await fetch(`${server.url}/audio-webhook`, { method: 'POST' });
    expect(slow.status).toBe(503);
    expect(await slow.json()).toMatchObject({ error: 'service_unavailable' });
  });

  it('logs method, path, status, ms and error code only: no query, token, JWT or phone number', async () => {
    mode = 'real';
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl';
    lines.length = 0;
    await fetch(`${server.url}/call-completed/volubile?token=server-test-token-7f3a&phone=%2B14155550123`, {
      method: 'POST',
      headers: { authorization: `Bearer ${jwt}`, 'x-webhook-signature': 'deadbeef', 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'x', phone: '+14155550123' }),
    });
    await fetch(`${server.url}/call-completed/+14155550123/server-test-token-7f3a?token=server-test-token-7f3a`);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^POST \/call-completed\/volubile 401 \d+ms invalid_signature$/);
    expect(lines[1]).toMatch(/^GET \/call-completed\/…\/… 404 \d+ms not_found$/);
    for (const line of lines) {
      expect(line).not.toMatch(/token|7f3a|4155550123|eyJ|deadbeef|\?/);
    }
  });
});
