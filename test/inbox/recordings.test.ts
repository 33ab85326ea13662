import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startLocalRecordings, type LocalRecordings } from '../../lib/local-recordings.ts';
import { engageVoiceRequest, synthflowRequest } from '../../lib/requests.ts';
import { freshEngageUii, freshSynthflowCallId } from '../../lib/samples.ts';
import { MP3, WAV, serve, startVendor, status, type Vendor } from '../recordings/support.ts';
import { startInboxServer, send } from './support.ts';

/**
 * The inbox and the recordings worker as `npm start` wires them (local/start.ts):
 * the local queue and worker of local/recordings.ts, its changes pushed to the
 * inbox, a real vendor stand-in on 127.0.0.1 and real headless Chromium. A
 * vendor's recording plays once copied, the page saying so without a reload;
 * a copy that failed says why.
 */

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'inbox-recordings-token';
let srv: Awaited<ReturnType<typeof startInboxServer>>;
let recordings: LocalRecordings;
let vendor: Vendor;
let context: BrowserContext;
let page: Page;
let dataDir: string;

const callSelector = (source: string, id: string) => `li.call[data-source="${source}"][data-call-id="${id}"]`;
const synthflowPayload = JSON.parse(readFileSync(new URL('../../events/payloads/synthflow/call-completed.json', import.meta.url), 'utf8')) as { call: Record<string, unknown> };
const engagePayload = JSON.parse(readFileSync(new URL('../../events/payloads/engage-voice/agent-termination.json', import.meta.url), 'utf8')) as Record<string, string>;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'inbox-recordings-'));
  Object.assign(process.env, { SYNTHFLOW_WEBHOOK_TOKEN: TOKEN, ENGAGE_VOICE_TOKEN: TOKEN, ENGAGE_VOICE_TIMEZONE: 'UTC' });
  // Before any handler loads: it sets the queue environment the handlers read at cold start, as in npm start.
  recordings = await startLocalRecordings({ LOCAL_SQS_PORT: '0', RECORDINGS_RETRY_DELAYS: '1' }, { host: '127.0.0.1', dataDir });
  srv = await startInboxServer();
  recordings.onChange((source, callId) => srv.inbox.onRecording(source, callId));
  vendor = await startVendor();
  context = await chromium.launchPersistentContext(join(dataDir, 'chromium'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = context.pages()[0] ?? await context.newPage();
  await page.goto(`${srv.url}/`);
  await page.waitForSelector('#live[data-state="live"]');
}, 60_000);

afterAll(async () => {
  await context?.close();
  await srv?.close();
  await recordings?.close();
  await vendor?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('inbox: vendor recordings', () => {
  it('a Synthflow recording plays once the worker copied it: the page updates the open call by itself, and the bytes are the vendor\'s', async () => {
    // The vendor answers after 2 s: the call is open, showing the link, before the copy exists.
    vendor.route('/sf.mp3', (req, res, n) => { setTimeout(() => serve(MP3, 'application/octet-stream')(req, res, n), 2_000); });
    const callId = freshSynthflowCallId();
    const body = Buffer.from(JSON.stringify({ ...synthflowPayload, call: { ...synthflowPayload.call, call_id: callId, recording_url: `${vendor.url}/sf.mp3` } }));
    expect((await send(srv.url, synthflowRequest(body, { token: TOKEN }))).status).toBe(200);
    const li = page.locator(callSelector('synthflow', callId));
    await li.waitFor({ timeout: 10_000 });
    await li.locator('button.open').click();
    await li.locator('.recordings li[data-archive="pending"] a.link-host').waitFor({ timeout: 10_000 });
    expect(await li.locator('.recordings audio').count()).toBe(0);
    const row = li.locator('.recordings li[data-archive="archived"]');
    await row.waitFor({ timeout: 15_000 });
    expect(await row.locator('.archive').textContent()).toMatch(/^archived .+ from the vendor$/);
    expect(await row.textContent()).toContain(`audio/mpeg · ${MP3.length} bytes`);
    const played = await row.evaluate(async (node) => {
      const a = node.querySelector('audio');
      if (!a) throw new Error('no audio element');
      const duration = await new Promise<number>((resolve, reject) => {
        if (a.readyState >= 1 && a.duration > 0) return resolve(a.duration);
        a.addEventListener('loadedmetadata', () => resolve(a.duration), { once: true });
        a.addEventListener('error', () => reject(new Error(`audio error ${a.error?.code ?? '?'}`)), { once: true });
        a.load();
      });
      const res = await fetch(a.src);
      return { duration, type: res.headers.get('content-type'), bytes: [...new Uint8Array(await res.arrayBuffer())] };
    });
    expect(played.duration).toBeGreaterThan(0);
    expect(played.type).toBe('audio/mpeg');
    expect(Buffer.from(played.bytes).equals(MP3)).toBe(true);
  });

  it('an Engage Voice segment whose server errors: the open call shows the copy failed and why; the agent recording plays', async () => {
    vendor.route('/seg.wav', status(500));
    vendor.route('/agent.wav', serve(WAV));
    const uii = freshEngageUii();
    const req = engageVoiceRequest({ ...engagePayload, uii, recording_url: `${vendor.url}/seg.wav`, sess_agent_perspective_recording_url: `${vendor.url}/agent.wav` }, 'json', { token: TOKEN });
    expect((await send(srv.url, req)).status).toBe(200);
    const li = page.locator(callSelector('engage-voice', uii));
    await li.waitFor({ timeout: 10_000 });
    await li.locator('button.open').click();
    const failed = li.locator('.recordings li[data-archive="failed"]');
    await failed.waitFor({ timeout: 20_000 });
    expect(await failed.locator('.archive').textContent()).toBe('copy failed: http_500 (attempt 2)');
    expect(await failed.locator('a.link-host').textContent()).toBe(new URL(vendor.url).host);
    expect(await li.locator('.counts').textContent()).toContain('1 copy failed');
    expect(await li.locator('.recordings li[data-archive="archived"] audio').count()).toBe(1);
  });
});
