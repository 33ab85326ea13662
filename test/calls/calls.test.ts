import { describe, it, expect, beforeAll, inject } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, type Io } from '../../lib/commands/calls.ts';
import { isWav } from '../../lib/calls/wav.ts';
import { randomUUID } from 'node:crypto';
import { volubileRequest } from '../../lib/requests.ts';
import { configureHandlers, scenario, invoke, SECRETS, type Scenario } from './support.ts';

/**
 * The calls command against the embedded servers, with data stored by the real
 * handlers. The command reaches them the way a user's `npm run calls` reaches
 * a running `npm start`: through LOCAL_S3_PORT / LOCAL_DYNAMODB_PORT.
 */

function envForCli(): Record<string, string | undefined> {
  const { s3Endpoint, dynamoEndpoint } = inject('storage');
  return {
    BUCKET_NAME: process.env.BUCKET_NAME,
    TABLE_NAME: process.env.TABLE_NAME,
    LOCAL_S3_PORT: new URL(s3Endpoint).port,
    LOCAL_DYNAMODB_PORT: new URL(dynamoEndpoint).port,
    DEFAULT_PHONE_REGION: 'US',
  };
}

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (t) => out.push(t), err: (t) => err.push(t) };
  const code = await main(argv, io, envForCli());
  return { code, out: out.join('\n'), err: err.join('\n') };
}

let s: Scenario;

beforeAll(async () => {
  configureHandlers();
  s = await scenario();
  for (const r of s.requests) {
    const res = await invoke(r);
    expect(res.statusCode, `${r.method} ${r.path}: ${String(res.body)}`).toBe(200);
  }
});

describe('calls list', () => {
  it('lists the day newest first, one line per call, grouping recordings and segments', async () => {
    const { code, out, err } = await run('list', '--day', s.day);
    expect(code).toBe(0);
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^TIME \(UTC\)\s+SOURCE\s+STATUS\s+CUSTOMER\s+DURATION\s+RECS\s+CALL ID$/);
    expect(lines).toHaveLength(5); // header + four calls (2 watsonx recordings → 1, 2 Engage segments → 1)
    const bySource = new Map(lines.slice(1).map((l) => [l.split(/\s{2,}/)[1], l]));
    expect([...bySource.keys()].sort()).toEqual(['engage-voice', 'synthflow', 'volubile', 'watsonx']);
    expect(bySource.get('watsonx')).toMatch(/\s2\s+\S+$/); // two recordings
    expect(bySource.get('engage-voice')).toContain(s.engage.uii);
    // newest first
    const times = lines.slice(1).map((l) => l.slice(0, 20));
    expect([...times].sort().reverse()).toEqual(times);
    // aligned columns: the SOURCE column starts at the same offset on every line
    const col = lines[0]!.indexOf('SOURCE');
    for (const l of lines.slice(1)) expect(l.slice(col)).toMatch(/^(watsonx|volubile|synthflow|engage-voice)/);
    expect(err).toMatch(/4 call\(s\), started on day/);
  });

  it('masks phone numbers unless --reveal', async () => {
    const masked = await run('list', '--day', s.day, '--source', 'volubile');
    expect(masked.out).not.toContain('+33612345678');
    expect(masked.out).toContain('+•••••••••78');
    const revealed = await run('list', '--day', s.day, '--source', 'volubile', '--reveal');
    expect(revealed.out).toContain('+33612345678');
  });

  it('filters by source and by phone through the ByPhone index', async () => {
    const engage = await run('list', '--day', s.day, '--source', 'engage-voice', '--json');
    const calls: unknown = JSON.parse(engage.out);
    expect(calls).toMatchObject([{ call: { source: 'engage-voice', callId: s.engage.uii }, items: [{}, {}] }]);
    const byPhone = await run('list', '--phone', '(617) 555-0142', '--day', s.day, '--json', '--reveal');
    expect(byPhone.code).toBe(0);
    expect(JSON.parse(byPhone.out)).toMatchObject([{ call: { source: 'engage-voice', customerNumber: '+16175550142' } }]);
  });

  it('respects --limit', async () => {
    const { out } = await run('list', '--day', s.day, '--limit', '2', '--json');
    expect(JSON.parse(out)).toHaveLength(2);
  });

  it('walks back from today without --day, bounded by --days', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const twoDaysAgo = new Date(Date.parse(today) - 2 * 86_400_000).toISOString().slice(0, 10);
    const { code, err } = await run('list', '--days', '3', '--source', 'volubile');
    expect(code, err).toBe(0);
    expect(err).toContain(`days ${twoDaysAgo} … ${today},`);
  });

  it('lists a call received just now whose start is years old, newest received first, and says the window', async () => {
    const id = `old-start-${randomUUID()}`;
    const body = Buffer.from(JSON.stringify({ id, status: 'COMPLETED', phone: '+33612345678', startTime: '2003-05-04T10:00:00Z' }));
    const res = await invoke(volubileRequest(body, { secret: SECRETS.VOLUBILE_WEBHOOK_SECRET }));
    expect(res.statusCode, String(res.body)).toBe(200);
    // (other test files store calls in the same table meanwhile: look for ours, and check the order)
    const { code, out } = await run('list', '--json', '--limit', '1000');
    expect(code).toBe(0);
    const calls = JSON.parse(out) as { call: { callId: string; receivedAt: string } }[];
    expect(calls.map((c) => c.call.callId)).toContain(id);
    const received = calls.map((c) => c.call.receivedAt);
    expect([...received].sort().reverse()).toEqual(received);
    const text = await run('list', '--limit', '1000');
    expect(text.out.split('\n').find((l) => l.includes(id))).toMatch(/^2003-05-04 10:00:00Z/);
    expect(text.err).toMatch(/days \d{4}-\d{2}-\d{2} … \d{4}-\d{2}-\d{2}, started or received then, newest received first/);
    // --day still means the day the call started
    const day = await run('list', '--day', '2003-05-04', '--source', 'volubile', '--json');
    expect((JSON.parse(day.out) as { call: { callId: string } }[]).map((c) => c.call.callId)).toContain(id);
    expect((await run('list', '--day', '2003-05-04', '--source', 'volubile')).err).toMatch(/started on day 2003-05-04/);
  });

  it('refuses bad arguments with usage, before touching storage', async () => {
    for (const argv of [['list', '--day', '20-11-2026'], ['list', '--limit', '0'], ['list', '--source', 'skype'], ['list', '--phone', 'abc'], ['show', 'volubile'], ['frobnicate'], ['list', '--bogus']]) {
      const { code, err } = await run(...argv);
      expect(code, argv.join(' ')).toBe(2);
      expect(err).toContain('Usage: npm run calls');
    }
  });
});

describe('calls show', () => {
  it('shows a watsonx session with both recordings', async () => {
    const { code, out } = await run('show', 'watsonx', s.watsonx.sessionId);
    expect(code).toBe(0);
    expect(out).toContain(`Call:       watsonx ${s.watsonx.sessionId}`);
    expect(out).toContain('Recordings (2):');
    for (const id of s.watsonx.recordingIds) expect(out).toContain(id);
  });

  it('shows Engage Voice segments and Synthflow transcript turns', async () => {
    const engage = await run('show', 'engage-voice', s.engage.uii);
    expect(engage.out).toContain('Items (2):');
    expect(engage.out).toMatch(/SEG#/);
    // the call-level recording_url repeats on both segments: listed once, plus one per agent
    expect(engage.out).toContain('Recordings (3):');
    const sf = await run('show', 'synthflow', s.synthflow.callId);
    expect(sf.out).toMatch(/Transcript \(\d+ turns\):/);
    expect(sf.out).toMatch(/customer\s+Yes\. I want to buy a car\./);
    expect(sf.out).toMatch(/agent\s+Hello, I am calling from Majestic Estates!/);
  });

  it('prints the stable JSON model: merged call plus its items', async () => {
    const { out } = await run('show', 'engage-voice', s.engage.uii, '--json', '--reveal');
    const g = JSON.parse(out) as { call: Record<string, unknown>; items: { sk: string; version: number; record: { agent?: { id?: string } } }[] };
    expect(Object.keys(g)).toEqual(['call', 'items']);
    expect(g.call).toMatchObject({ source: 'engage-voice', callId: s.engage.uii, customerNumber: '+16175550142' });
    expect(g.items.map((i) => i.record.agent?.id)).toEqual(['1004217', '1004388']);
    // merged span: first segment start to last segment end
    expect(g.call.startedAt).toBe(`${s.day}T09:12:05.483Z`);
    expect(g.call.durationSec).toBeGreaterThan(205 + 408 - 1);
    expect(g.call.agent).toMatchObject({ id: '1004388' });
  });

  it('answers an unknown call with exit code 1', async () => {
    const { code, err } = await run('show', 'volubile', 'no-such-call');
    expect(code).toBe(1);
    expect(err).toContain('No call volubile no-such-call');
  });
});

describe('calls audio', () => {
  it('writes each stored watsonx recording as a WAV that starts with a RIFF header', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'calls-audio-'));
    const { code, out } = await run('audio', 'watsonx', s.watsonx.sessionId, '--out', dir);
    expect(code).toBe(0);
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(2);
    for (const f of files) {
      const bytes = readFileSync(join(dir, f));
      expect(isWav(bytes)).toBe(true);
      expect(bytes.length).toBeGreaterThan(1000);
    }
    // the µ-law recording: its data chunk is the received bytes, unchanged
    const ulaw = readFileSync(new URL('../../events/payloads/watsonx/recording.ulaw', import.meta.url));
    const first = readFileSync(join(dir, files[0]!));
    expect(first.includes(ulaw)).toBe(true);
    expect(out).toContain('.wav');
  });

  it('lists vendor links instead of downloading them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'calls-audio-'));
    const { code, out } = await run('audio', 'synthflow', s.synthflow.callId, '--out', dir);
    expect(code).toBe(0);
    expect(out).toContain('https://recordings.synthflow.example/calls/');
    expect(readdirSync(dir)).toEqual([]);
  });
});
