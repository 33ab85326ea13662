import { describe, it, expect, beforeAll } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInbox } from '../../lib/inbox/index.ts';
import { legacyAndSlimTables } from '../support/index-tables.ts';
import { configureHandlers, scenario, invoke } from '../calls/support.ts';

/**
 * The inbox's list API reads the same calls, page by page, from a table with
 * the slim indexes (keys + source + callId) as from one with the ALL-projection
 * indexes they replace: the same stored items in both (docs/deploy.md, "Index costs").
 */

let tables: { legacy: string; slim: string };

/** The list API over real HTTP; its calls and paging (the head carries the clock). */
async function inboxList(tableName: string, page: number): Promise<{ calls: unknown[]; more: boolean; page: number }> {
  const inbox = createInbox({ bucketName: process.env.BUCKET_NAME ?? '', tableName, pageSize: 3 });
  const server: Server = createServer((req, res) => { void inbox.handle(req, res); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/inbox/api/calls?page=${page}`);
    expect(res.status).toBe(200);
    const body = await res.json() as { calls: unknown[]; more: boolean; page: number };
    return { calls: body.calls, more: body.more, page: body.page };
  } finally {
    inbox.close();
    await new Promise((resolve) => server.close(resolve));
  }
}

beforeAll(async () => {
  configureHandlers();
  const s = await scenario();
  for (const r of s.requests) expect((await invoke(r)).statusCode).toBe(200);
  tables = await legacyAndSlimTables([['watsonx', s.watsonx.sessionId], ['volubile', s.volubile.callId], ['synthflow', s.synthflow.callId], ['engage-voice', s.engage.uii]]);
});

describe('the inbox list from the slim indexes', () => {
  it('answers what the ALL-projection indexes answer, on every page', async () => {
    const first = await inboxList(tables.legacy, 0);
    expect(first.calls).toHaveLength(3);
    expect(first.more).toBe(true);
    expect(await inboxList(tables.slim, 0)).toEqual(first);
    const second = await inboxList(tables.legacy, 1);
    expect(second.calls).toHaveLength(1);
    expect(await inboxList(tables.slim, 1)).toEqual(second);
  });
});
