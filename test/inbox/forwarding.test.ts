import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { request } from 'node:http';
import { configureHandlers, scenario, type Scenario } from '../calls/support.ts';
import { startInboxServer, send } from './support.ts';

/**
 * The inbox behind a tunnel: the webhook routes may be tunnelled, the inbox
 * never. Each case is the header set a tunnel or proxy in host-rewrite mode
 * really adds (Host rewritten to the local address, so Host alone cannot tell),
 * sent over real HTTP to the real local server.
 */

let srv: Awaited<ReturnType<typeof startInboxServer>>;
let s: Scenario;

function get(path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const u = new URL(srv.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET', headers: { host: `localhost:${u.port}`, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const TUNNELS: Record<string, Record<string, string>> = {
  'ngrok --host-header=rewrite': {
    'x-forwarded-for': '203.0.113.7',
    'x-forwarded-host': '4f2a-203-0-113-7.ngrok-free.app',
    'x-forwarded-proto': 'https',
    'accept-encoding': 'gzip',
  },
  'cloudflared --http-host-header localhost': {
    'cdn-loop': 'cloudflare; loops=1',
    'cf-connecting-ip': '203.0.113.7',
    'cf-ipcountry': 'FR',
    'cf-ray': '9cd08c876d6a81a4-CDG',
    'cf-visitor': '{"scheme":"https"}',
    'cf-warp-tag-id': 'ee14046b-a895-4b82-ab02-facc2526bb4a',
    'x-forwarded-for': '203.0.113.7',
    'x-forwarded-proto': 'https',
  },
  'Tailscale Funnel': {
    'tailscale-funnel-request': '?1',
    'x-forwarded-for': '203.0.113.7',
    'x-forwarded-host': 'laptop.tail1234.ts.net',
    'x-forwarded-proto': 'https',
  },
  'nginx proxy_pass (X-Real-IP)': { 'x-real-ip': '203.0.113.7' },
  'RFC 7239 proxy': { forwarded: 'for=203.0.113.7;proto=https;host=hooks.example.com' },
  'proxy that only adds Via': { via: '1.1 vegur' },
  'Akamai / Cloudflare Enterprise': { 'true-client-ip': '203.0.113.7' },
  'X-Forwarded-Host alone': { 'x-forwarded-host': 'hooks.example.com' },
  'X-Forwarded-Proto alone': { 'x-forwarded-proto': 'https' },
};

beforeAll(async () => {
  configureHandlers();
  srv = await startInboxServer();
  s = await scenario(new Date().toISOString().slice(0, 10));
});

afterAll(async () => { await srv?.close(); });

describe('inbox through a tunnel', () => {
  it('opens for the local browser with Host localhost and no forwarding header', async () => {
    const res = await get('/inbox/api/calls', {});
    expect(res.status).toBe(200);
  });

  for (const [tunnel, headers] of Object.entries(TUNNELS)) {
    it(`refuses every inbox route forwarded by ${tunnel}`, async () => {
      for (const path of ['/', '/inbox/app.js', '/inbox/api/calls', '/inbox/api/events', '/inbox/audio?key=audio%2Fwatsonx%2Fx.wav']) {
        const res = await get(path, headers);
        expect(res.status, `${tunnel} ${path}`).toBe(403);
        expect(res.body).toMatch(/tunnel/);
        expect(res.body).not.toMatch(/\+\d{6,}/);
      }
    });
  }

  it('still lets the same tunnel carry the webhook routes', async () => {
    const headers = Object.fromEntries(Object.entries(TUNNELS['cloudflared --http-host-header localhost'] ?? {}));
    const volubile = s.requests.find((r) => r.path === '/call-completed/volubile');
    expect(volubile).toBeDefined();
    const res = await send(srv.url, { ...volubile!, headers: [...volubile!.headers, ...Object.entries(headers)] });
    expect(res.status, res.body).toBe(200);
  });
});
