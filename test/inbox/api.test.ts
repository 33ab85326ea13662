import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { request } from 'node:http';
import { configureHandlers, scenario, SECRETS, type Scenario } from '../calls/support.ts';
import { volubileRequest } from '../../lib/requests.ts';
import { isWav } from '../../lib/calls/wav.ts';
import { parseRange } from '../../lib/inbox/index.ts';
import { startInboxServer, send } from './support.ts';

/** The inbox's HTTP API behind the real local server, with deliveries replayed over HTTP. */

let srv: Awaited<ReturnType<typeof startInboxServer>>;
let s: Scenario;

interface CallsResponse {
  calls: { source: string; callId: string; items: number; recordings: number; customerNumber?: string }[];
  rejected: { status: number; error?: string; message?: string; path: string }[];
  window: { days: number; receivedSince: string };
  more: boolean;
}

async function calls(query = ''): Promise<CallsResponse> {
  const res = await fetch(`${srv.url}/inbox/api/calls${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as CallsResponse;
}

async function detail(source: string, callId: string, query = ''): Promise<{ recordings: { s3Key?: string }[]; summary: { customerNumber?: string } }> {
  const res = await fetch(`${srv.url}/inbox/api/call?source=${source}&callId=${encodeURIComponent(callId)}${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as { recordings: { s3Key?: string }[]; summary: { customerNumber?: string } };
}

function raw(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  const u = new URL(srv.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  configureHandlers();
  srv = await startInboxServer();
  s = await scenario(new Date().toISOString().slice(0, 10));
  for (const r of s.requests) expect((await send(srv.url, r)).status).toBe(200);
});

afterAll(async () => { await srv?.close(); });

describe('inbox API', () => {
  it('lists the replayed calls of all four sources, grouped, numbers masked unless revealed', async () => {
    const { calls: list, window } = await calls();
    const mine = (source: string, id: string) => list.find((g) => g.source === source && g.callId === id);
    expect(mine('watsonx', s.watsonx.sessionId)?.items).toBe(2);
    expect(mine('engage-voice', s.engage.uii)?.items).toBe(2);
    expect(mine('volubile', s.volubile.callId)?.customerNumber).toBe('+•••••••••78');
    expect(mine('synthflow', s.synthflow.callId)).toBeDefined();
    expect(JSON.stringify(list)).not.toContain('+33612345678');
    expect(window.days).toBe(7);
    const revealed = await calls('?reveal=1');
    expect(revealed.calls.find((g) => g.callId === s.volubile.callId)?.customerNumber).toBe('+33612345678');
    expect((await detail('volubile', s.volubile.callId)).summary.customerNumber).toBe('+•••••••••78');
    expect((await detail('volubile', s.volubile.callId, '&reveal=1')).summary.customerNumber).toBe('+33612345678');
  });

  it('serves a stored recording as audio/wav, whole or by Range', async () => {
    const key = (await detail('watsonx', s.watsonx.sessionId)).recordings[0]?.s3Key;
    expect(key).toMatch(/^audio\/watsonx\//);
    const whole = await raw(`/inbox/audio?key=${encodeURIComponent(key ?? '')}`);
    expect(whole.status).toBe(200);
    expect(whole.headers['content-type']).toBe('audio/wav');
    expect(whole.headers['accept-ranges']).toBe('bytes');
    expect(isWav(whole.body)).toBe(true);
    const part = await raw(`/inbox/audio?key=${encodeURIComponent(key ?? '')}`, { range: 'bytes=0-99' });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 0-99/${whole.body.length}`);
    expect(part.body.equals(whole.body.subarray(0, 100))).toBe(true);
    const beyond = await raw(`/inbox/audio?key=${encodeURIComponent(key ?? '')}`, { range: `bytes=${whole.body.length}-` });
    expect(beyond.status).toBe(416);
  });

  it('refuses audio keys outside audio/, unknown recordings, writes and foreign Host names', async () => {
    expect((await raw('/inbox/audio?key=raw%2Fvolubile%2Fx.json')).status).toBe(400);
    expect((await raw('/inbox/audio?key=audio%2F..%2Fraw%2Fx')).status).toBe(400);
    expect((await raw('/inbox/audio?key=audio%2Fwatsonx%2Fnope.wav')).status).toBe(404);
    expect((await raw('/inbox/api/calls', {}, 'POST')).status).toBe(405);
    expect((await raw('/inbox/api/calls', { host: 'evil.example:3000' })).status).toBe(403);
    expect((await raw('/inbox/api/calls', { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
  });

  it('keeps rejected deliveries with their reason, and stores nothing for them', async () => {
    const bad = volubileRequest(Buffer.from(JSON.stringify({ id: 'x', status: 'COMPLETED' })), { secret: 'not-the-secret' });
    const res = await send(srv.url, bad);
    expect(res.status).toBe(401);
    const { rejected } = await calls();
    expect(rejected[0]).toMatchObject({ status: 401, path: '/call-completed/volubile' });
    expect(rejected[0]?.error).toMatch(/signature/);
    expect(rejected[0]?.message).toBeTruthy();
    expect(SECRETS.VOLUBILE_WEBHOOK_SECRET).not.toBe('not-the-secret');
  });

  it('pushes Server-Sent Events on each delivery', async () => {
    const controller = new AbortController();
    const res = await fetch(`${srv.url}/inbox/api/events`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    const got = (async () => {
      while (!text.includes('event: rejected')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString('utf8');
      }
    })();
    await send(srv.url, volubileRequest(Buffer.from('{}'), {}));
    await got;
    controller.abort();
    expect(text).toMatch(/event: rejected\ndata: \{"at":"[^"]+","method":"POST","path":"\/call-completed\/volubile","status":401,/);
  });

  it('serves the page with a strict content security policy', async () => {
    const page = await raw('/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(String(page.headers['content-security-policy'])).toContain("script-src 'self'");
    expect(page.body.toString()).toContain('/inbox/app.js');
    const js = await raw('/inbox/app.js');
    expect(js.body.toString()).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });
});

describe('parseRange', () => {
  it('reads the single-range forms and refuses the rest', () => {
    expect(parseRange(undefined, 10)).toBeUndefined();
    expect(parseRange('bytes=2-4', 10)).toEqual({ start: 2, end: 4 });
    expect(parseRange('bytes=5-', 10)).toEqual({ start: 5, end: 9 });
    expect(parseRange('bytes=-3', 10)).toEqual({ start: 7, end: 9 });
    expect(parseRange('bytes=0-100', 10)).toEqual({ start: 0, end: 9 });
    for (const bad of ['bytes=10-', 'bytes=4-2', 'bytes=-', 'items=0-1', 'bytes=0-1,3-4', 'bytes=-0']) expect(parseRange(bad, 10)).toBe('invalid');
  });
});
