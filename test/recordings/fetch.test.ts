import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { DEPLOYED_POLICY, safeFetch } from '../../functions/recordings/fetch.ts';
import { LOOPBACK_POLICY as LOCAL, WAV, fetchFailure as failure, redirect, serve, startVendor, type Vendor } from './support.ts';

/** The fetcher on its own, against real servers on 127.0.0.1: what the deployed policy refuses, and the hop rules. */

let vendor: Vendor;

beforeAll(async () => { vendor = await startVendor(); });
afterAll(async () => { await vendor.stop(); });

describe('safeFetch', () => {
  it('deployed: http is refused before any connection', async () => {
    vendor.route('/plain.wav', serve(WAV));
    const err = await failure(safeFetch(`${vendor.url}/plain.wav`, DEPLOYED_POLICY));
    expect(err).toMatchObject({ reason: 'refused_scheme', permanent: true });
    expect(vendor.requests.filter((q) => q.path === '/plain.wav')).toHaveLength(0);
  });

  it('deployed: https to a loopback address (literal or by name) is refused before connecting', async () => {
    for (const host of ['127.0.0.1', 'localhost', '[::1]']) {
      const err = await failure(safeFetch(`https://${host}:${vendor.port}/x.wav`, DEPLOYED_POLICY));
      expect(err.reason, host).toBe('refused_address');
    }
  });

  it('deployed: private and link-local literals are refused without a connection attempt', async () => {
    for (const url of ['https://10.0.0.1/a.wav', 'https://192.168.0.10/a.wav', 'https://169.254.169.254/latest/meta-data/', 'https://[fd00:ec2::254]/']) {
      expect((await failure(safeFetch(url, DEPLOYED_POLICY))).reason, url).toBe('refused_address');
    }
  });

  it('locally: loopback http is fetched, link-local still refused', async () => {
    vendor.route('/local.wav', serve(WAV));
    const res = await safeFetch(`${vendor.url}/local.wav`, LOCAL);
    expect(res.status).toBe(200);
    res.body.resume();
    expect((await failure(safeFetch('http://169.254.169.254/', LOCAL))).reason).toBe('refused_address');
  });

  it('follows at most 3 redirects', async () => {
    vendor.route('/r/end.wav', serve(WAV));
    vendor.route('/r/1', redirect('/r/end.wav'));
    vendor.route('/r/2', redirect('/r/1'));
    vendor.route('/r/3', redirect('/r/2'));
    vendor.route('/r/4', redirect('/r/3'));
    const three = await safeFetch(`${vendor.url}/r/3`, LOCAL);
    expect(three.status).toBe(200);
    expect(three.url).toBe(`${vendor.url}/r/end.wav`);
    three.body.resume();
    expect(await failure(safeFetch(`${vendor.url}/r/4`, LOCAL))).toMatchObject({ reason: 'too_many_redirects', permanent: true });
  });

  it('sends bound credentials only to their origin: not after a redirect to another port or host name', async () => {
    const other = await startVendor();
    try {
      other.route('/signed.wav', serve(WAV));
      vendor.route('/to-other', redirect(`${other.url}/signed.wav`));
      vendor.route('/to-name', redirect(`http://localhost:${vendor.port}/same-port.wav`));
      vendor.route('/same-port.wav', serve(WAV));
      const creds = { origin: vendor.url, authorization: 'Bearer secret-key' };
      (await safeFetch(`${vendor.url}/to-other`, LOCAL, creds)).body.resume();
      (await safeFetch(`${vendor.url}/to-name`, LOCAL, creds)).body.resume();
      expect(vendor.requests.find((q) => q.path === '/to-other')?.authorization).toBe('Bearer secret-key');
      expect(other.requests.find((q) => q.path === '/signed.wav')?.authorization).toBeUndefined();
      expect(vendor.requests.find((q) => q.path === '/same-port.wav')).toBeDefined();
      expect(vendor.requests.find((q) => q.path === '/same-port.wav')?.authorization).toBeUndefined();
    } finally {
      await other.stop();
    }
  });

  it('a closed port is a network error (retryable)', async () => {
    const gone = await startVendor();
    const url = `${gone.url}/a.wav`;
    await gone.stop();
    expect(await failure(safeFetch(url, LOCAL))).toMatchObject({ reason: 'network_error', permanent: false });
  });

  it('a server that accepts and never answers hits the idle timeout', async () => {
    vendor.route('/silent', () => { /* never answers */ });
    expect(await failure(safeFetch(`${vendor.url}/silent`, { ...LOCAL, idleTimeoutMs: 300 }))).toMatchObject({ reason: 'idle_timeout' });
  });
});
