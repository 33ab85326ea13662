import { request as httpRequest, type IncomingMessage, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import type { Socket } from 'node:net';
import { refusalOf, type AddressPolicy } from './address.ts';

/**
 * An outbound GET for a URL that came from a webhook payload (SSRF-safe):
 * - only `https` deployed; `http` too when the policy allows loopback (local mode);
 * - every hop's resolved address is checked before connecting, and the socket's
 *   remote address again once connected (link-local is refused in every mode);
 * - at most `maxRedirects` redirects, each hop checked like the first;
 * - credentials are bound to one origin and never follow a redirect elsewhere;
 * - a connect timeout, and an idle timeout that also covers the body.
 */

export interface FetchPolicy {
  addresses: AddressPolicy;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  maxRedirects: number;
}

export const DEPLOYED_POLICY: FetchPolicy = { addresses: 'public-only', connectTimeoutMs: 5_000, idleTimeoutMs: 20_000, maxRedirects: 3 };

/** Credentials for one origin (scheme, host, port): sent only to it. */
export interface BoundCredentials {
  origin: string;
  authorization: string;
}

export interface FetchResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body; its socket keeps the idle timeout. Drain or destroy it. */
  body: IncomingMessage;
  /** The URL that answered (after redirects). */
  url: string;
}

/** Why a fetch failed: `reason` is a short code safe for logs, metrics and the index. */
export class FetchError extends Error {
  override name = 'FetchError';
  constructor(readonly reason: string, message: string, readonly permanent = false, readonly status?: number) {
    super(message);
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function checkScheme(url: URL, policy: FetchPolicy): void {
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && policy.addresses === 'allow-loopback') return;
  throw new FetchError('refused_scheme', `${url.protocol} URLs are not fetched${url.protocol === 'http:' ? ' (https only when deployed)' : ''}`, true);
}

/** dns.lookup that only yields allowed addresses (and fails when none is). */
function guardedLookup(policy: FetchPolicy, refused: { reason?: string }): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const allowed = addresses.filter((a) => {
        const why = refusalOf(a.address, policy.addresses);
        if (why) refused.reason = why;
        return why === undefined;
      });
      const first = allowed[0];
      if (!first) {
        const e = Object.assign(new Error(`refused: ${refused.reason ?? 'no address'}`), { code: 'EREFUSEDADDRESS' });
        return callback(e, '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      return callback(null, first.address, first.family);
    });
  };
}

function oneHop(url: URL, headers: Record<string, string>, policy: FetchPolicy): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host)) {
      const why = refusalOf(host, policy.addresses);
      if (why) return reject(new FetchError('refused_address', `refused: ${why}`, true));
    }
    const refused: { reason?: string } = {};
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { method: 'GET', headers, agent: false, lookup: guardedLookup(policy, refused) });
    const connectTimer = setTimeout(() => {
      req.destroy(new FetchError('connect_timeout', `no connection within ${policy.connectTimeoutMs} ms`));
    }, policy.connectTimeoutMs);
    let response: IncomingMessage | undefined;
    req.setTimeout(policy.idleTimeoutMs, () => {
      const err = new FetchError('idle_timeout', `no data for ${policy.idleTimeoutMs} ms`);
      // Mid-body, the reader sees the response's error: give it this one, not a bare "aborted".
      if (response) response.destroy(err);
      req.destroy(err);
    });
    req.on('socket', (socket: Socket) => {
      socket.once('connect', () => {
        clearTimeout(connectTimer);
        const why = socket.remoteAddress ? refusalOf(socket.remoteAddress, policy.addresses) : 'no remote address';
        if (why) req.destroy(new FetchError('refused_address', `refused: ${why}`, true));
      });
    });
    req.once('response', (res) => {
      clearTimeout(connectTimer);
      response = res;
      resolve(res);
    });
    req.once('error', (err) => {
      clearTimeout(connectTimer);
      if (err instanceof FetchError) return reject(err);
      if ((err as { code?: string }).code === 'EREFUSEDADDRESS') {
        return reject(new FetchError('refused_address', `refused: ${refused.reason ?? 'address'}`, true));
      }
      reject(new FetchError('network_error', `${(err as { code?: string }).code ?? err.name}`));
    });
    req.end();
  });
}

/**
 * GET `rawUrl`, following up to `policy.maxRedirects` redirects. Resolves with
 * the first non-redirect response (any status: the caller decides); rejects
 * with a FetchError for refused targets, timeouts and network errors.
 */
export async function safeFetch(rawUrl: string, policy: FetchPolicy, credentials?: BoundCredentials): Promise<FetchResponse> {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new FetchError('invalid_url', 'not a URL', true);
  }
  for (let hop = 0; ; hop++) {
    checkScheme(url, policy);
    const headers: Record<string, string> = { accept: 'audio/*, */*;q=0.1', 'user-agent': 'voice-webhooks-recordings/1' };
    if (credentials && url.origin === credentials.origin) headers.authorization = credentials.authorization;
    const res = await oneHop(url, headers, policy);
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (!REDIRECTS.has(status) || !location) return { status, headers: res.headers, body: res, url: url.href };
    res.resume();
    if (hop >= policy.maxRedirects) throw new FetchError('too_many_redirects', `more than ${policy.maxRedirects} redirects`, true);
    try {
      url = new URL(location, url);
    } catch {
      throw new FetchError('invalid_redirect', 'redirect to something that is not a URL', true);
    }
  }
}
