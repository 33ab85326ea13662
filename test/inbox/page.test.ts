import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { configureHandlers, scenario, SECRETS, type Scenario } from '../calls/support.ts';
import { randomInt } from 'node:crypto';
import { engageVoiceRequest, volubileRequest } from '../../lib/requests.ts';
import { startInboxServer, send } from './support.ts';

/**
 * The inbox page in real headless Chromium: deliveries replayed over HTTP to
 * the local server appear without a reload, with transcript, playable audio
 * and the reason of a rejected delivery. `INBOX_SCREENSHOT=1` refreshes
 * docs/inbox.png.
 */

const CHROMIUM = '/usr/bin/chromium';
let srv: Awaited<ReturnType<typeof startInboxServer>>;
let context: BrowserContext;
let page: Page;
let userDataDir: string;
let s: Scenario;

const callSelector = (source: string, id: string) => `li.call[data-source="${source}"][data-call-id="${id}"]`;

beforeAll(async () => {
  configureHandlers();
  srv = await startInboxServer();
  s = await scenario(new Date().toISOString().slice(0, 10));
  userDataDir = mkdtempSync(join(tmpdir(), 'inbox-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1200, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = context.pages()[0] ?? await context.newPage();
  await page.goto(`${srv.url}/`);
  await page.waitForSelector('body[data-loaded="true"]');
  await page.waitForSelector('#live[data-state="live"]');
}, 60_000);

afterAll(async () => {
  await context?.close();
  await srv?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

describe('inbox page', () => {
  it('shows a replayed call without reload, with its transcript', async () => {
    const marker = await page.evaluate(() => { const w = globalThis as unknown as { marker: number }; w.marker = Math.random(); return w.marker; });
    const synthflow = s.requests.find((r) => r.path === '/call-completed/synthflow');
    expect((await send(srv.url, synthflow!)).status).toBe(200);
    const li = page.locator(callSelector('synthflow', s.synthflow.callId));
    await li.waitFor({ timeout: 10_000 });
    // the list shows the summary; the transcript loads when the call is opened
    expect(await li.locator('.transcript li').count()).toBe(0);
    expect(await li.locator('.counts').textContent()).toContain('4 turns');
    await li.locator('button.open').click();
    await li.locator('.transcript li').first().waitFor({ timeout: 10_000 });
    expect(await li.locator('.transcript li').count()).toBe(4);
    expect(await li.locator('.transcript li[data-speaker="customer"] .text').first().textContent()).toBe('Yes. I want to buy a car.');
    expect(await li.locator('.status').textContent()).toBe('completed');
    // numbers masked unless the user asks
    expect(await li.textContent()).not.toContain('+14155550123');
    expect(await li.textContent()).toContain('+•••••••••23');
    await page.locator('#reveal').check();
    await expect.poll(() => li.textContent(), { timeout: 10_000 }).toContain('+14155550123');
    await page.locator('#reveal').uncheck();
    await expect.poll(() => li.textContent(), { timeout: 10_000 }).not.toContain('+14155550123');
    // same document: the page was not reloaded
    expect(await page.evaluate(() => (globalThis as unknown as { marker: number }).marker)).toBe(marker);
  });

  it('plays the watsonx recordings: the audio elements load WAVs that decode', async () => {
    for (const r of s.requests.filter((x) => x.path !== '/call-completed/synthflow')) expect((await send(srv.url, r)).status).toBe(200);
    const li = page.locator(callSelector('watsonx', s.watsonx.sessionId));
    await li.waitFor({ timeout: 10_000 });
    await li.locator('button.open').click();
    await li.locator('audio').nth(1).waitFor({ timeout: 10_000 });
    expect(await li.locator('audio').count()).toBe(2);
    const durations = await li.evaluate(async (node) => {
      const audios = [...node.querySelectorAll('audio')];
      return Promise.all(audios.map((a) => new Promise<number>((resolve, reject) => {
        const done = () => resolve(a.duration);
        if (a.readyState >= 1 && a.duration > 0) done();
        a.addEventListener('loadedmetadata', done, { once: true });
        a.addEventListener('error', () => reject(new Error(`audio error ${a.error?.code ?? '?'} for ${a.src}`)), { once: true });
        a.load();
      })));
    });
    expect(durations).toHaveLength(2);
    for (const d of durations) expect(d).toBeGreaterThan(0);
    // and the bytes decode to samples (µ-law recording: 3 s at 8 kHz)
    const decoded = await li.evaluate(async (node) => {
      const src = node.querySelector('audio')?.src ?? '';
      const bytes = await (await fetch(src)).arrayBuffer();
      type Decoded = { duration: number; numberOfChannels: number };
      const Offline = (globalThis as unknown as { OfflineAudioContext: new (channels: number, length: number, rate: number) => { decodeAudioData(b: ArrayBuffer): Promise<Decoded> } }).OfflineAudioContext;
      const ctx = new Offline(1, 8000, 8000);
      const buffer = await ctx.decodeAudioData(bytes);
      return { seconds: buffer.duration, channels: buffer.numberOfChannels };
    });
    expect(decoded.seconds).toBeGreaterThan(2.5);
    expect(decoded.channels).toBe(1);
  });

  it('lists calls from all four sources, Engage Voice segments merged into one call', async () => {
    for (const [source, id] of [['watsonx', s.watsonx.sessionId], ['volubile', s.volubile.callId], ['synthflow', s.synthflow.callId], ['engage-voice', s.engage.uii]] as const) {
      await page.locator(callSelector(source, id)).waitFor({ timeout: 10_000 });
    }
    const engage = page.locator(callSelector('engage-voice', s.engage.uii));
    expect(await engage.textContent()).toContain('2 segments');
    await engage.locator('button.open').click();
    await engage.locator('.recordings a').nth(2).waitFor({ timeout: 10_000 });
    expect(await engage.locator('.recordings a').count()).toBe(3);
    const volubile = page.locator(callSelector('volubile', s.volubile.callId));
    await volubile.locator('button.open').click();
    await volubile.locator('details.extracted dd').first().waitFor({ timeout: 10_000 });
    expect(await volubile.locator('details.extracted dd').allTextContents()).toContain('5HZ99FRT');
    // nothing absent is rendered as a stray "null"/"undefined"
    for (const text of await page.locator('li.call').allInnerTexts()) expect(text).not.toMatch(/\b(null|undefined)\b/);
  });

  it('shows a rejected delivery with its reason', async () => {
    const bad = volubileRequest(Buffer.from(JSON.stringify({ id: 'probe', status: 'COMPLETED' })), { secret: 'wrong-secret' });
    expect((await send(srv.url, bad)).status).toBe(401);
    const row = page.locator('#rejected tr.rejection').first();
    await row.waitFor({ timeout: 10_000 });
    expect(await row.locator('td.status').textContent()).toBe('401');
    expect(await row.locator('td.reason code').textContent()).toMatch(/signature/);
    expect(await row.textContent()).toContain('POST /call-completed/volubile');
    await page.screenshot({
      path: process.env.INBOX_SCREENSHOT ? 'docs/inbox.png' : join(userDataDir, 'inbox.png'),
      fullPage: true,
    });
  });

  it('renders hostile payload text as text', async () => {
    const id = `hostile-${Date.now()}`;
    const body = Buffer.from(JSON.stringify({
      id,
      status: 'COMPLETED',
      phone: '+33612345678',
      startTime: new Date().toISOString(),
      summary: '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>',
      extractorData: { '<b>key</b>': '<a href="javascript:alert(1)">x</a>' },
    }));
    const res = await send(srv.url, volubileRequest(body, { secret: SECRETS.VOLUBILE_WEBHOOK_SECRET }));
    expect(res.status, res.body).toBe(200);
    const li = page.locator(callSelector('volubile', id));
    await li.waitFor({ timeout: 10_000 });
    expect(await li.locator('.summary').textContent()).toBe('<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>');
    expect(await li.locator('img, script, b, a[href^="javascript"]').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned)).toBeUndefined();
  });

  it('shows a vendor link by its host, the full URL escaped on hover; bidi overrides in any text are neutralized and isolated', async () => {
    const uii = Array.from({ length: 30 }, () => randomInt(0, 10)).join('');
    const spoof = 'https://attacker.example/r.wav#\u202Emoc.knab-ruoy@//:sptth';
    const req = engageVoiceRequest({
      uii, agent_id: '7', agent_first_name: 'Eve\u202E', ani: '6175550142', call_start: new Date().toISOString().slice(0, 19).replace('T', ' '),
      duration: '10', disposition: 'Sold\u202E', recording_url: spoof,
    }, 'json', { token: SECRETS.ENGAGE_VOICE_TOKEN });
    const res = await send(srv.url, req);
    expect(res.status, res.body).toBe(200);
    const li = page.locator(callSelector('engage-voice', uii));
    await li.waitFor({ timeout: 10_000 });
    await li.locator('button.open').click();
    const link = li.locator('.recordings a');
    await link.waitFor({ timeout: 10_000 });
    expect(await link.textContent()).toBe('attacker.example');
    const title = await link.getAttribute('title');
    const href = await link.getAttribute('href');
    expect(title).toContain('attacker.example');
    for (const v of [title, href, await li.textContent()]) expect(v).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
    expect(await li.textContent()).toContain('Eve\\u202E');
    // user text is isolated: the agent name sits in its own <bdi>, so even an unneutralized override could not reorder the line
    expect(await li.locator('.call-head bdi', { hasText: 'Eve\\u202E' }).count()).toBe(1);
    expect(await li.locator('.callid bdi').textContent()).toBe(uii);
  });

  it('lists a call received now whose start is years old, and says which window it shows', async () => {
    const id = `old-start-${Date.now()}`;
    const body = Buffer.from(JSON.stringify({ id, status: 'COMPLETED', startTime: '2003-05-04T10:00:00Z', summary: 'replayed from an old export' }));
    expect((await send(srv.url, volubileRequest(body, { secret: SECRETS.VOLUBILE_WEBHOOK_SECRET }))).status).toBe(200);
    await page.locator(callSelector('volubile', id)).waitFor({ timeout: 10_000 });
    await page.reload();
    await page.waitForSelector('body[data-loaded="true"]');
    await page.locator(callSelector('volubile', id)).waitFor({ timeout: 10_000 });
    expect(await page.locator('#calls-window').textContent()).toMatch(/started in the last 7 days, and every call received since this server started/);
    await page.waitForSelector('#live[data-state="live"]');
  });

  it('updates one call per event: a delivery fetches that call alone, refused junk fetches nothing', async () => {
    const urls: string[] = [];
    const onRequest = (r: { url(): string }) => { if (r.url().includes('/inbox/api/')) urls.push(new URL(r.url()).pathname + new URL(r.url()).search); };
    page.on('request', onRequest);
    try {
      for (let i = 0; i < 20; i++) expect((await send(srv.url, volubileRequest(Buffer.from('{}'), {}))).status).toBe(401);
      await expect.poll(() => page.locator('#rejected tr.rejection').count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(20);
      expect(urls).toEqual([]);
      const id = `incremental-${Date.now()}`;
      const body = Buffer.from(JSON.stringify({ id, status: 'COMPLETED', startTime: new Date().toISOString() }));
      expect((await send(srv.url, volubileRequest(body, { secret: SECRETS.VOLUBILE_WEBHOOK_SECRET }))).status).toBe(200);
      await page.locator(callSelector('volubile', id)).waitFor({ timeout: 10_000 });
      expect(urls).toEqual([`/inbox/api/call?source=volubile&callId=${id}&part=summary`]);
      expect(await page.locator('li.call').first().getAttribute('data-call-id')).toBe(id);
    } finally {
      page.off('request', onRequest);
    }
  });
});
