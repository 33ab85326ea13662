import { describe, it, expect, beforeAll, inject } from 'vitest';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, type Io } from '../../lib/commands/calls.ts';
import { decodeExportName } from '../../lib/calls/export.ts';
import { volubileRequest, watsonxRequest } from '../../lib/requests.ts';
import { configureHandlers, invoke, uniqueDay, SECRETS } from './support.ts';

/**
 * What the calls command prints from correctly signed but hostile deliveries
 * (stored by the real handlers in the suite's s3rver/dynalite): every value
 * stays on its own line, no raw control, C1, bidi or zero-width character
 * reaches the terminal, in text or JSON, and exports never collide, overwrite
 * or follow a symlink.
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

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string; lines: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const lines: string[] = [];
  const io: Io = { out: (t) => { out.push(t); lines.push(...t.split('\n')); }, err: (t) => { err.push(t); lines.push(...t.split('\n')); } };
  const code = await main(argv, io, envForCli());
  return { code, out: out.join('\n'), err: err.join('\n'), lines };
}

// eslint-disable-next-line no-control-regex -- the characters that must not reach a terminal
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;

const day = uniqueDay();
const hostileId = randomUUID();
const HOSTILE_SUMMARY = 'Refund done.\nStatus:     failed\r\nCustomer:   +1 555 0000\u001b[2J\u0007';

beforeAll(async () => {
  configureHandlers();
  const body = Buffer.from(JSON.stringify({
    id: hostileId,
    status: 'COMPLETED',
    phone: '+33612345678',
    startTime: `${day}T10:00:00Z`,
    summary: HOSTILE_SUMMARY,
    extractorData: { 'key\u0085NEL': 'value\u202Etxt.exe', 'zero\u200bwidth': 'line\u2028break', nested: { deep: 'a\nb\u009bc' } },
    classifierData: { 'Sentiment\u2066': 'Positive\u2069\nForged: yes' },
    transcript: [{ role: 'user', text: 'hello\n  agent    I approve the refund' }],
  }));
  const res = await invoke(volubileRequest(body, { secret: SECRETS.VOLUBILE_WEBHOOK_SECRET }));
  expect(res.statusCode, String(res.body)).toBe(200);
});

describe('calls output from hostile data', () => {
  it('show: every stored value on the line it began, controls and bidi shown as \\uXXXX', async () => {
    const { code, out, lines } = await run('show', 'volubile', hostileId);
    expect(code).toBe(0);
    for (const line of lines) expect(line).not.toMatch(RAW);
    // the forged lines are not lines of their own
    expect(lines.filter((l) => l.startsWith('Status:'))).toHaveLength(1);
    expect(lines.filter((l) => l.startsWith('Customer:'))).toHaveLength(1);
    expect(lines.filter((l) => /^\s+agent\s/.test(l))).toHaveLength(0);
    expect(lines.some((l) => l.startsWith('Forged'))).toBe(false);
    expect(out).toContain('Refund done.\\u000AStatus:     failed\\u000D\\u000ACustomer:   +1 555 0000\\u001B[2J\\u0007');
    expect(out).toContain('value\\u202Etxt.exe');
    expect(out).toContain('key\\u0085NEL');
    expect(out).toContain('zero\\u200Bwidth');
    expect(out).toContain('line\\u2028break');
  });

  it('list: one line per call whatever the data', async () => {
    const { lines, out } = await run('list', '--day', day, '--source', 'volubile');
    expect(out.split('\n')).toHaveLength(2);
    for (const line of lines) expect(line).not.toMatch(RAW);
  });

  it('--json: C1, bidi and zero-width characters escaped as \\uXXXX, and it parses back to the stored value', async () => {
    const { out } = await run('show', 'volubile', hostileId, '--json', '--reveal');
    for (const line of out.split('\n')) expect(line).not.toMatch(RAW);
    expect(out).toContain('\\u202E');
    expect(out).toContain('\\u0085');
    const parsed = JSON.parse(out) as { call: { summary: string; extracted: Record<string, unknown> } };
    expect(parsed.call.summary).toBe(HOSTILE_SUMMARY);
    expect(parsed.call.extracted['key\u0085NEL']).toBe('value\u202Etxt.exe');
  });
});

describe('calls audio exports', () => {
  const ulaw = readFileSync(new URL('../../events/payloads/watsonx/recording.ulaw', import.meta.url));
  const meta = (session: string, recording: string) => Buffer.from(JSON.stringify({
    assistant_id: 'a1', environment_id: 'e1', session_id: session, recording_id: recording,
    start_timestamp: `${day}T11:00:00.000Z`, stop_timestamp: `${day}T11:00:03.000Z`,
  }));
  const tag = randomUUID().slice(0, 8);
  // ids that the old naming (":" → "_", cut at 120) mapped to one file name
  const a = `s${tag}:1`;
  const b = `s${tag}_1`;
  const long = `s${tag}${'x'.repeat(110)}`;
  // too long for a file name once encoded: a digest name, still unique
  const colons = `c${tag}${':'.repeat(115)}`;

  beforeAll(async () => {
    for (const [session, rec] of [[a, 'rec1'], [b, 'rec1'], [`${long}1`, 'rec1'], [`${long}2`, 'rec1'], [colons, 'rec1']] as const) {
      const res = await invoke(await watsonxRequest({ metadata: meta(session, rec), audio: ulaw, variant: 'mulaw' }, SECRETS.WATSONX_AUDIO_SECRET));
      expect(res.statusCode, String(res.body)).toBe(200);
    }
  });

  it('gives different calls different names, and the names decode to the ids', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'calls-export-'));
    for (const id of [a, b, `${long}1`, `${long}2`, colons]) {
      const { code, err } = await run('audio', 'watsonx', id, '--out', dir);
      expect(code, err).toBe(0);
      expect(err).toContain('1 audio file(s) written');
    }
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(5);
    for (const f of files) expect(Buffer.byteLength(f)).toBeLessThanOrEqual(255);
    const decoded = files.map(decodeExportName).filter((d) => d !== undefined);
    expect(decoded.map((d) => d.callId).sort()).toEqual([a, b, `${long}1`, `${long}2`].sort());
    expect(decoded.every((d) => d.recordingId === 'rec1' && d.source === 'watsonx' && d.index === 0)).toBe(true);
    expect(files.filter((f) => /_sha256-[0-9a-f]{32}\.wav$/.test(f))).toHaveLength(1);
  });

  it('never overwrites a file unless --force', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'calls-export-'));
    expect((await run('audio', 'watsonx', a, '--out', dir)).code).toBe(0);
    const [name] = readdirSync(dir);
    writeFileSync(join(dir, name!), 'mine');
    const again = await run('audio', 'watsonx', a, '--out', dir);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/exists; not overwritten/);
    expect(again.err).toContain('0 audio file(s) written');
    expect(readFileSync(join(dir, name!), 'utf8')).toBe('mine');
    const forced = await run('audio', 'watsonx', a, '--out', dir, '--force');
    expect(forced.code).toBe(0);
    expect(readFileSync(join(dir, name!)).subarray(0, 4).toString('latin1')).toBe('RIFF');
  });

  it('never writes through a symlink, with or without --force', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'calls-export-'));
    const victim = join(mkdtempSync(join(tmpdir(), 'calls-victim-')), 'precious.txt');
    writeFileSync(victim, 'precious');
    const probe = mkdtempSync(join(tmpdir(), 'calls-name-'));
    await run('audio', 'watsonx', b, '--out', probe);
    const [name] = readdirSync(probe);
    symlinkSync(victim, join(dir, name!));
    for (const extra of [[], ['--force']]) {
      const res = await run('audio', 'watsonx', b, '--out', dir, ...extra);
      expect(res.code).toBe(1);
      expect(res.err).toMatch(/symbolic link; not written through/);
      expect(readFileSync(victim, 'utf8')).toBe('precious');
      expect(lstatSync(join(dir, name!)).isSymbolicLink()).toBe(true);
      expect(readlinkSync(join(dir, name!))).toBe(victim);
    }
  });
});
