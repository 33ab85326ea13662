import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page, type Request } from 'playwright-core';
import { configureHandlers, SECRETS, uniqueDay } from '../calls/support.ts';
import { volubileRequest } from '../../lib/requests.ts';
import { startInboxServer, send } from './support.ts';

/**
 * The inbox with 40 calls of 7,500 transcript turns each, in real Chromium:
 * the first screen is a page of summaries, so the bytes sent and the DOM stay
 * small however long the calls are; opening a call brings a page of its turns.
 * Time to first render is measured and logged (never asserted); the DOM size
 * and the bytes transferred are asserted as structural bounds.
 */

const CHROMIUM = '/usr/bin/chromium';
const CALLS = 40;
const TURNS = 7_500;

let srv: Awaited<ReturnType<typeof startInboxServer>>;
let context: BrowserContext;
let page: Page;
let userDataDir: string;
const ids: string[] = [];

/** Bytes of every finished response (headers + body) while `act` runs. */
async function transferred(p: Page, act: () => Promise<void>): Promise<{ bytes: number; requests: number }> {
  let bytes = 0;
  let requests = 0;
  const pending: Promise<void>[] = [];
  const onFinished = (r: Request) => {
    requests++;
    pending.push(r.sizes().then((s) => { bytes += s.responseBodySize + s.responseHeadersSize; }, () => {}));
  };
  p.on('requestfinished', onFinished);
  try {
    await act();
    await Promise.all(pending);
  } finally {
    p.off('requestfinished', onFinished);
  }
  return { bytes, requests };
}

const domNodes = (p: Page) => p.evaluate(() => (globalThis as unknown as { document: { getElementsByTagName(t: string): { length: number } } }).document.getElementsByTagName('*').length);

beforeAll(async () => {
  configureHandlers();
  srv = await startInboxServer();
  const day = uniqueDay();
  const transcript = Array.from({ length: TURNS }, (_, i) => ({ role: i % 2 ? 'user' : 'agent', text: `t${i}` }));
  for (let i = 0; i < CALLS; i++) {
    const id = randomUUID();
    ids.push(id);
    const body = Buffer.from(JSON.stringify({ id, status: 'COMPLETED', phone: '+33612345678', startTime: `${day}T10:${String(i).padStart(2, '0')}:00Z`, summary: `call ${i}`, transcript }));
    const res = await send(srv.url, volubileRequest(body, { secret: SECRETS.VOLUBILE_WEBHOOK_SECRET }));
    expect(res.status, res.body).toBe(200);
  }
  userDataDir = mkdtempSync(join(tmpdir(), 'inbox-scale-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1200, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = context.pages()[0] ?? await context.newPage();
}, 240_000);

afterAll(async () => {
  await context?.close();
  await srv?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

describe(`inbox with ${CALLS} calls × ${TURNS} turns`, () => {
  it('first screen: summaries only, bounded bytes and DOM; a call opens with a page of turns', async () => {
    const load = await transferred(page, async () => {
      await page.goto(`${srv.url}/`);
      await page.waitForSelector('body[data-loaded="true"]', { timeout: 120_000 });
    });
    const firstRenderMs = Number(await page.evaluate(() => (globalThis as unknown as { document: { body: { dataset: Record<string, string> } } }).document.body.dataset.firstRenderMs));
    const nodes = await domNodes(page);
    const cards = await page.locator('li.call').count();

    const card = page.locator(`li.call[data-call-id="${ids[CALLS - 1]}"]`);
    const open = await transferred(page, async () => {
      await card.locator('button.open').click();
      await card.locator('.transcript li').first().waitFor({ timeout: 60_000 });
    });
    const openNodes = await domNodes(page);
    const shownTurns = await card.locator('.transcript li').count();
    process.stdout.write(`inbox scale (${CALLS} calls × ${TURNS} turns): first render ${firstRenderMs} ms, ${load.bytes} bytes in ${load.requests} requests, ${nodes} DOM nodes, ${cards} cards; opening one call: ${open.bytes} bytes, DOM ${openNodes} nodes, ${shownTurns} turns shown\n`);

    expect(cards).toBe(20); // one page of summaries
    expect(nodes).toBeLessThan(2_000);
    expect(load.bytes).toBeLessThan(150_000);
    expect(await card.locator('.counts').textContent()).toContain(`${TURNS} turns`);
    expect(shownTurns).toBe(200);
    expect(openNodes - nodes).toBeLessThan(1_000);
    expect(open.bytes).toBeLessThan(60_000);

    // the next page of turns, and the next page of calls, on demand
    await card.locator('button.more-turns').click();
    await expect.poll(() => card.locator('.transcript li').count(), { timeout: 30_000 }).toBe(400);
    await page.locator('#more').click();
    await expect.poll(() => page.locator('li.call').count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(CALLS);
    const shown = await page.locator('li.call').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-call-id')));
    for (const id of ids) expect(shown).toContain(id);
  }, 240_000);
});
