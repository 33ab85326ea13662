import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Source } from '#shared/model';
import type { DeliveryEvent } from '../local-server.ts';
import { CallReader } from '../calls/reader.ts';
import { callKey, type GroupedCall } from '../calls/model.ts';
import { isSource } from '#shared/model';
import { playableAudio } from '../calls/wav.ts';
import { visibleText } from '../text.ts';
import { detailOf, summaryOf } from './view.ts';

/**
 * The local inbox: a page at `/` of the local server that lists calls as they
 * arrive, a page of short summaries at a time; opening a call loads its
 * transcript (a page of turns at a time), extracted data and audio players.
 * Server-Sent Events say which call changed or which delivery was refused, so
 * the page updates that one entry instead of reloading the list.
 *
 * Served only by the local server, never deployed, and only to this machine's
 * browser (see inboxRefusal). The page is static HTML, CSS and vanilla JS that
 * builds the DOM with textContent only: payloads are hostile. Phone numbers
 * are masked unless the page asks with `reveal=1`, and never logged: this
 * module logs nothing.
 *
 * Routes (GET/HEAD only): `/`, `/inbox/app.js`, `/inbox/app.css`,
 * `/inbox/api/calls?page=N[&reveal=1]` (summaries), `/inbox/api/call?source=&callId=[&turns=N][&part=summary][&reveal=1]`,
 * `/inbox/api/events` (SSE), `/inbox/audio?key=<s3 key>`.
 */

export interface InboxOptions {
  bucketName: string;
  tableName: string;
  /** How long rejected deliveries stay on the page (default 15). */
  recentMinutes?: number;
  /** How many days of the ByDay index the page looks back (default 7). */
  recentDays?: number;
  /** Calls per page of the list (default 20). */
  pageSize?: number;
  /** How many calls the list goes back at most (default 500). */
  limit?: number;
  /** Test seam; otherwise clients from the standard SDK environment. */
  reader?: CallReader;
}

export interface Inbox {
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  onDelivery(e: DeliveryEvent): void;
  /** The recordings worker handled a recording of this call (copied, or an attempt failed). */
  onRecording(source: string, callId: string): void;
  close(): void;
}

/** A rejected delivery as the page shows it. */
export interface Rejection {
  at: string;
  method: string;
  path: string;
  source?: string;
  status: number;
  error?: string;
  message?: string;
}

const MAX_REJECTIONS = 200;

/** A rejection row with its sender-influenced text made visible. */
function visibleRejection(r: Rejection): Rejection {
  return {
    at: r.at,
    method: visibleText(r.method),
    path: visibleText(r.path),
    status: r.status,
    ...(r.source ? { source: visibleText(r.source) } : {}),
    ...(r.error ? { error: visibleText(r.error) } : {}),
    ...(r.message ? { message: visibleText(r.message) } : {}),
  };
}
const MAX_ARRIVALS = 500;
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/inbox/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/inbox/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; media-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

function readStatic(file: string): Buffer {
  return readFileSync(new URL(`./page/${file}`, import.meta.url));
}

/**
 * Headers a proxy or tunnel adds on the way in (ngrok, cloudflared, localtunnel,
 * Tailscale Funnel, VS Code dev tunnels, CDNs, nginx). A tunnel in host-rewrite
 * mode makes a request look local by its Host; it still says it forwarded it.
 */
export const FORWARDING_HEADERS = [
  'forwarded', 'via', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port',
  'x-forwarded-server', 'x-forwarded-prefix', 'x-original-forwarded-for', 'x-original-host', 'x-original-url',
  'x-real-ip', 'x-client-ip', 'x-cluster-client-ip', 'cf-connecting-ip', 'cf-connecting-ipv6', 'cf-ray', 'cf-visitor',
  'cf-warp-tag-id', 'cf-ipcountry', 'cdn-loop', 'true-client-ip', 'fastly-client-ip', 'fly-client-ip', 'x-azure-clientip',
  'x-appengine-user-ip', 'tailscale-funnel-request', 'x-ms-forwarded-for',
] as const;

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;

/**
 * Only the user's own browser on this machine may read the inbox: the
 * connection comes from loopback, nothing forwarded it (a tunnel may carry the
 * webhook routes, never the inbox), the Host is a local name (DNS rebinding),
 * and the fetch is not cross-site. Returns why not, or undefined.
 */
export function inboxRefusal(req: IncomingMessage): string | undefined {
  if (!LOOPBACK.test(req.socket.remoteAddress ?? '')) return 'the inbox answers only connections from this machine';
  const forwarded = FORWARDING_HEADERS.find((h) => req.headers[h] !== undefined);
  if (forwarded) return `the inbox is not served through a proxy or tunnel (the request carries ${forwarded}); tunnel only the webhook routes, see docs/local-mode.md`;
  const host = req.headers.host ?? '';
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0];
  if (!name || !['127.0.0.1', 'localhost', '[::1]'].includes(name)) return 'open the inbox at http://127.0.0.1:<port>/';
  const site = req.headers['sec-fetch-site'];
  if (!(site === undefined || site === 'same-origin' || site === 'none')) return 'the inbox does not answer cross-site requests';
  return undefined;
}

function sendBytes(res: ServerResponse, status: number, type: string, body: Buffer, head: boolean, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': String(body.length), 'cache-control': 'no-store', ...SECURITY_HEADERS, ...extra });
  res.end(head ? undefined : body);
}

function sendJson(res: ServerResponse, status: number, value: unknown, head = false): void {
  sendBytes(res, status, 'application/json; charset=utf-8', Buffer.from(JSON.stringify(value)), head);
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` (one range); undefined when absent or unsatisfiable. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'invalid' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'invalid';
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'invalid';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'invalid';
  return { start, end };
}

export function createInbox(opts: InboxOptions): Inbox {
  const reader = opts.reader ?? new CallReader({ bucketName: opts.bucketName, tableName: opts.tableName });
  const recentMs = (opts.recentMinutes ?? 15) * 60_000;
  const days = opts.recentDays ?? 7;
  const pageSize = opts.pageSize ?? 20;
  const limit = opts.limit ?? 500;
  const startedAt = new Date().toISOString();
  const files = Object.fromEntries(Object.entries(STATIC).map(([path, f]) => [path, { ...f, body: readStatic(f.file) }]));
  const rejections: Rejection[] = [];
  /** Calls stored since the server started, most recent last: found even when their start day is long ago. */
  const arrivals = new Map<string, { source: Source; callId: string }>();
  const clients = new Set<ServerResponse>();
  let seq = 0;

  const heartbeat = setInterval(() => { for (const c of clients) c.write(': keep-alive\n\n'); }, 15_000);
  heartbeat.unref();

  const broadcast = (event: string, data: unknown) => {
    const frame = `id: ${++seq}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of clients) c.write(frame);
  };

  const recentRejections = (now = Date.now()): Rejection[] => {
    while (rejections.length && Date.parse(rejections[0]?.at ?? '') < now - recentMs) rejections.shift();
    return [...rejections].reverse();
  };

  /** Newest received first: the calls of the last `days` days by start, plus every call received since start-up. */
  const listCalls = async (limit: number): Promise<GroupedCall[]> => {
    const known = [...arrivals.values()].reverse().slice(0, limit);
    const [fromDays, fromArrivals] = await Promise.all([
      reader.listCalls({ limit, days }),
      Promise.all(known.map((c) => reader.getCall(c.source, c.callId))),
    ]);
    const byKey = new Map<string, GroupedCall>();
    for (const g of [...fromArrivals, ...fromDays.calls]) if (g) byKey.set(callKey(g.call.source, g.call.callId), g);
    return [...byKey.values()]
      .sort((a, b) => b.call.receivedAt.localeCompare(a.call.receivedAt) || (b.call.startedAt ?? '').localeCompare(a.call.startedAt ?? ''))
      .slice(0, limit);
  };

  /** What the list shows and over which window: the page says it in words. */
  const listHead = () => ({
    now: new Date().toISOString(),
    window: { days, receivedSince: startedAt },
    rejected: recentRejections().map(visibleRejection),
    recentMinutes: recentMs / 60_000,
  });

  const serveAudio = async (url: URL, req: IncomingMessage, res: ServerResponse, head: boolean) => {
    const key = url.searchParams.get('key') ?? '';
    if (!/^audio\/[A-Za-z0-9._:@=+/-]{1,400}$/.test(key) || key.includes('..')) {
      sendJson(res, 400, { error: 'bad_request', message: 'key must name a recording under audio/' });
      return;
    }
    let obj;
    try {
      obj = await reader.getObject(key);
    } catch (err) {
      const status = err instanceof Error && (err.name === 'NoSuchKey' || err.name === 'NotFound') ? 404 : 503;
      sendJson(res, status, { error: status === 404 ? 'not_found' : 'service_unavailable', message: status === 404 ? 'no such recording' : 'storage is unavailable' });
      return;
    }
    // watsonx audio as WAV, a vendor's archived copy as the audio it is (MP3, Ogg…).
    const audio = playableAudio(obj.body, obj.contentType);
    if (!audio) {
      sendJson(res, 415, { error: 'unsupported_media_type', message: 'this recording is not audio the page can play' });
      return;
    }
    const { bytes, contentType } = audio;
    const range = parseRange(req.headers.range, bytes.length);
    if (range === 'invalid') {
      sendBytes(res, 416, 'text/plain; charset=utf-8', Buffer.alloc(0), true, { 'content-range': `bytes */${bytes.length}` });
      return;
    }
    const common = { 'accept-ranges': 'bytes' };
    if (!range) {
      sendBytes(res, 200, contentType, bytes, head, common);
      return;
    }
    sendBytes(res, 206, contentType, bytes.subarray(range.start, range.end + 1), head, {
      ...common, 'content-range': `bytes ${range.start}-${range.end}/${bytes.length}`,
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    if (path !== '/' && !path.startsWith('/inbox/')) return false;
    req.resume();
    const refusal = inboxRefusal(req);
    if (refusal) {
      sendJson(res, 403, { error: 'forbidden', message: refusal });
      return true;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ error: 'method_not_allowed', message: 'the inbox is read-only: use GET' }));
      return true;
    }
    const head = method === 'HEAD';
    const file = files[path];
    if (file) {
      sendBytes(res, 200, file.type, file.body, head);
      return true;
    }
    try {
      const reveal = url.searchParams.get('reveal') === '1';
      if (path === '/inbox/api/calls') {
        const page = Math.min(Number.parseInt(url.searchParams.get('page') ?? '0', 10) || 0, Math.floor(limit / pageSize));
        const upTo = Math.min((page + 1) * pageSize, limit);
        const calls = await listCalls(upTo + 1);
        sendJson(res, 200, {
          ...listHead(),
          page,
          pageSize,
          more: calls.length > upTo,
          calls: calls.slice(page * pageSize, upTo).map((g) => summaryOf(g, { reveal })),
        }, head);
      } else if (path === '/inbox/api/call') {
        const source = url.searchParams.get('source') ?? '';
        const callId = url.searchParams.get('callId') ?? '';
        const g = isSource(source) && callId ? await reader.getCall(source, callId) : undefined;
        if (!g) {
          sendJson(res, 404, { error: 'not_found', message: 'no such call' }, head);
        } else if (url.searchParams.get('part') === 'summary') {
          sendJson(res, 200, summaryOf(g, { reveal }), head);
        } else {
          sendJson(res, 200, detailOf(g, { reveal }, Number.parseInt(url.searchParams.get('turns') ?? '0', 10) || 0), head);
        }
      } else if (path === '/inbox/api/events') {
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', ...SECURITY_HEADERS });
        res.write('retry: 2000\n\n');
        clients.add(res);
        res.on('close', () => clients.delete(res));
      } else if (path === '/inbox/audio') {
        await serveAudio(url, req, res, head);
      } else {
        sendJson(res, 404, { error: 'not_found', message: 'no such inbox page' });
      }
    } catch (err) {
      const missingTable = err instanceof Error && err.name === 'ResourceNotFoundException';
      if (missingTable) sendJson(res, 200, { ...listHead(), page: 0, pageSize, more: false, calls: [] }, head);
      else if (!res.headersSent) sendJson(res, 503, { error: 'service_unavailable', message: 'local storage is not answering' });
    }
    return true;
  };

  const onDelivery = (e: DeliveryEvent): void => {
    if (e.status >= 400) {
      rejections.push({
        at: e.at,
        method: e.method,
        path: e.path.split('?')[0] ?? '',
        status: e.status,
        ...(e.source ? { source: e.source } : {}),
        ...(e.error ? { error: e.error } : {}),
        ...(e.message ? { message: e.message } : {}),
      });
      if (rejections.length > MAX_REJECTIONS) rejections.shift();
      broadcast('rejected', visibleRejection(rejections[rejections.length - 1] ?? { at: e.at, method: e.method, path: '', status: e.status }));
      return;
    }
    if (e.source && isSource(e.source) && e.callId) {
      const key = callKey(e.source, e.callId);
      arrivals.delete(key);
      arrivals.set(key, { source: e.source, callId: e.callId });
      if (arrivals.size > MAX_ARRIVALS) arrivals.delete(arrivals.keys().next().value ?? '');
    }
    // Which call changed: the page fetches that one summary, not the list.
    broadcast('delivery', { at: e.at, source: e.source, outcome: e.outcome, ...(e.callId ? { callId: e.callId } : {}) });
  };

  const onRecording = (source: string, callId: string): void => {
    if (!isSource(source)) return;
    // The page refreshes that call as for a delivery; its open detail reloads when the copy changed it.
    broadcast('delivery', { at: new Date().toISOString(), source, outcome: 'recording', callId });
  };

  const close = (): void => {
    clearInterval(heartbeat);
    for (const c of clients) c.end();
    clients.clear();
    if (!opts.reader) reader.destroy();
  };

  return { handle, onDelivery, onRecording, close };
}
