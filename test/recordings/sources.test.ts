import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { synthflow, vapi, type FetchContext } from '../../functions/recordings/sources.ts';
import type { Secrets } from '#shared/config';
import { LOOPBACK_POLICY as LOCAL, WAV, bearerOnly, fetchFailure as failure, redirect, serve, startVendor, status, type Vendor } from './support.ts';

/**
 * The per-source fetch strategies on their own, against a real vendor stand-in:
 * when the vendor's API is used, and when it is not (no key, an id it has no
 * endpoint for, a refused target).
 */

let vendor: Vendor;
const ctx = (secrets: Secrets): FetchContext => ({ policy: LOCAL, secrets, synthflowApiUrl: `${vendor.url}/v2/`, vapiApiUrl: `${vendor.url}/` });

beforeAll(async () => { vendor = await startVendor(); });
afterAll(async () => { await vendor.stop(); });

const apiCalls = (prefix: string) => vendor.requests.filter((q) => q.path.startsWith(prefix));

describe('fetch strategies', () => {
  it('Vapi without VAPI_API_KEY: a refused link fails with its own status, the API is not called', async () => {
    vendor.route('/private-a.wav', status(403));
    vendor.route('/call/c-a/mono-recording', serve(WAV));
    const err = await failure(vapi({ source: 'vapi', callId: 'c-a', recording: { id: 'mono', sourceUrl: `${vendor.url}/private-a.wav`, contentType: 'audio/wav' } }, ctx({})));
    expect(err.reason).toBe('http_403');
    expect(apiCalls('/call/c-a/')).toEqual([]);
  });

  it('Vapi with the key: a recording id it has no endpoint for keeps the link\'s failure', async () => {
    vendor.route('/private-b.wav', status(403));
    const err = await failure(vapi({ source: 'vapi', callId: 'c-b', recording: { id: 'other', sourceUrl: `${vendor.url}/private-b.wav`, contentType: 'audio/wav' } }, ctx({ VAPI_API_KEY: 'k' })));
    expect(err.reason).toBe('http_403');
    expect(apiCalls('/call/c-b/')).toEqual([]);
  });

  it('Vapi with the key: a link to a refused address is not retried through the API', async () => {
    const err = await failure(vapi({ source: 'vapi', callId: 'c-c', recording: { id: 'stereo', sourceUrl: 'http://169.254.169.254/x.wav', contentType: 'audio/wav' } }, ctx({ VAPI_API_KEY: 'k' })));
    expect(err).toMatchObject({ reason: 'refused_address', permanent: true });
    expect(apiCalls('/call/c-c/')).toEqual([]);
  });

  it('Vapi: the stereo endpoint with the key as Bearer, the base URL\'s trailing slash dropped, the 302 followed', async () => {
    vendor.route('/call/c-d/stereo-recording', bearerOnly('vk', redirect(`${vendor.url}/signed-d.wav`)));
    vendor.route('/signed-d.wav', serve(WAV));
    const res = await vapi({ source: 'vapi', callId: 'c-d', recording: { id: 'stereo', contentType: 'audio/wav' } }, ctx({ VAPI_API_KEY: 'vk' }));
    expect(res.status).toBe(200);
    res.body.resume();
    expect(apiCalls('/call/c-d/').map((q) => q.authorization)).toEqual(['Bearer vk']);
    expect(vendor.requests.filter((q) => q.path === '/signed-d.wav')).toHaveLength(1);
  });

  it('Synthflow "Get a recording" without any link (viaApi), and no_url without the key', async () => {
    vendor.route('/v2/calls/c-e/recording', bearerOnly('sk', serve(WAV)));
    const ok = await synthflow({ source: 'synthflow', callId: 'c-e', recording: { id: 'call-recording', contentType: 'audio/mpeg', viaApi: true } }, ctx({ SYNTHFLOW_API_KEY: 'sk' }));
    expect(ok.status).toBe(200);
    ok.body.resume();
    const err = await failure(synthflow({ source: 'synthflow', callId: 'c-e', recording: { id: 'call-recording', contentType: 'audio/mpeg', viaApi: true } }, ctx({})));
    expect(err).toMatchObject({ reason: 'no_url', permanent: true });
  });
});
