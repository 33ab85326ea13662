import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, openSync, closeSync, ftruncateSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { oneLine, safeJson } from '../../lib/text.ts';

/**
 * The tools as a user runs them (real processes through tsx): `npm run invoke`
 * bounds what it reads, and neither invoke nor replay lets raw bytes from a
 * file or a server reach the terminal.
 */

const TSX = new URL('../../node_modules/.bin/tsx', import.meta.url).pathname;
const ROOT = new URL('../../', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'tool-io-'));

// eslint-disable-next-line no-control-regex -- the characters that must not reach a terminal
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;

function tool(script: string, args: string[], timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string; killed: boolean }> {
  return new Promise((resolve) => {
    const child = execFile(TSX, [join(ROOT, script), ...args], {
      cwd: ROOT,
      timeout: timeoutMs,
      maxBuffer: 4 * 1024 * 1024,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir, NODE_NO_WARNINGS: '1' },
    }, (err, stdout, stderr) => {
      resolve({ code: child.exitCode, stdout, stderr, killed: Boolean(err && 'killed' in err && err.killed) });
    });
  });
}

describe('one-line sanitizer', () => {
  it('shows controls, C1, bidi and zero-width characters as \\uXXXX and keeps the rest', () => {
    expect(oneLine('a\nb\r\tc\u001b[31m\u0007')).toBe('a\\u000Ab\\u000D\\u0009c\\u001B[31m\\u0007');
    expect(oneLine('x\u0085\u009by\u202Ez\u2066\u200b\u200d\ufeff\u2028\u00ad\u061c')).toBe('x\\u0085\\u009By\\u202Ez\\u2066\\u200B\\u200D\\uFEFF\\u2028\\u00AD\\u061C');
    expect(oneLine('lone \ud800 surrogate')).toBe('lone \\uD800 surrogate');
    expect(oneLine('Zoë — 電話 📞 +33 6 12')).toBe('Zoë — 電話 📞 +33 6 12');
  });

  it('JSON: the same characters escaped, indentation kept, parses back to the same value', () => {
    const value = { a: 'x\u202E\u0085\n\u2028\u200b', b: ['\u001b'] };
    const text = safeJson(value, 2);
    expect(text.split('\n')).toHaveLength(6);
    for (const line of text.split('\n')) expect(line).not.toMatch(RAW);
    expect(JSON.parse(text)).toEqual(value);
  });
});

describe('npm run invoke bounds its input', () => {
  it('refuses a device (/dev/zero) at once instead of filling memory', async () => {
    const res = await tool('scripts/invoke.ts', ['call-completed', '/dev/zero']);
    expect(res.killed).toBe(false);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/\/dev\/zero is a device: give a regular file/);
  });

  it('refuses a FIFO instead of waiting on it', async () => {
    const fifo = join(dataDir, 'events.fifo');
    await new Promise<void>((resolve, reject) => execFile('mkfifo', [fifo], (err) => (err ? reject(err) : resolve())));
    const res = await tool('scripts/invoke.ts', ['call-completed', fifo], 20_000);
    expect(res.killed).toBe(false);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/is a FIFO: give a regular file/);
  });

  it('refuses a file over the 6 MB Lambda event limit without reading it', async () => {
    const big = join(dataDir, 'big.json');
    const fd = openSync(big, 'w');
    ftruncateSync(fd, 64 * 1024 * 1024 * 1024); // sparse: 64 GiB that take no disk
    closeSync(fd);
    const res = await tool('scripts/invoke.ts', ['call-completed', big]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/is 68719476736 bytes; the limit is 6291456/);
  });

  it('prints a parse error without the raw bytes of the file', async () => {
    const bad = join(dataDir, 'bad.json');
    writeFileSync(bad, Buffer.from('\u001b[2J\u0007\u202E{"version":', 'utf8'));
    const res = await tool('scripts/invoke.ts', ['call-completed', bad]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/bad\.json is not JSON/);
    for (const line of res.stderr.split('\n')) expect(line).not.toMatch(RAW);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('npm run replay --url reads a response body only up to its bound', () => {
  let server: Server;
  let url: string;
  let sent = 0;

  beforeAll(async () => {
    // an endless answer, bounded here only so the test stops by itself (256 MiB)
    server = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let stopped = false;
      res.on('close', () => { stopped = true; });
      const pump = (): void => {
        while (!stopped && sent < 4096 * chunk.length && res.write(chunk)) sent += chunk.length;
        if (stopped) return;
        if (sent >= 4096 * chunk.length) res.end();
        else res.once('drain', pump);
      };
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => { await new Promise((resolve) => server.close(resolve)); });

  it('prints the first 64 KiB and says it cut the rest, without reading the whole stream', async () => {
    const res = await tool('scripts/replay.ts', ['volubile', '--url', url, '--set', 'VOLUBILE_WEBHOOK_SECRET=s']);
    expect(res.code, res.stderr).toBe(0);
    const lines = res.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^a{65536} … \(response cut at 65536 bytes\)$/);
    expect(sent).toBeLessThan(256 * 1024 * 1024);
  });
});

describe('npm run replay --url prints the response body on one line', () => {
  let server: Server;
  let url: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"outcome":"stored"}\n\u001b[2J\u001b[HPOST /call-completed/volubile → 200\n\u202Eforged\u0085\u0007');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => { await new Promise((resolve) => server.close(resolve)); });

  it('no forged status line, no raw control or bidi character', async () => {
    const res = await tool('scripts/replay.ts', ['volubile', '--url', url, '--set', 'VOLUBILE_WEBHOOK_SECRET=s']);
    expect(res.code, res.stderr).toBe(0);
    const lines = res.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe('POST /call-completed/volubile → 200');
    for (const line of lines) expect(line).not.toMatch(RAW);
    expect(lines[1]).toContain('\\u001B[2J');
    expect(lines[1]).toContain('\\u202Eforged\\u0085\\u0007');
  });
});
