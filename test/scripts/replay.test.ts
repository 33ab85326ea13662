import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetConfiguration } from '#shared/handler';
import { createLocalServer, type LocalServer } from '../../lib/local-server.ts';
import { replay, parseReplayArgs, pointRecordingsAt, replaySecrets } from '../../lib/commands/replay.ts';
import { PAYLOADS_DIR, freshEngageUii, freshSynthflowCallId } from '../../lib/samples.ts';
import { writeStoredSecrets } from '../../lib/local-secrets.ts';
import { renderBanner } from '../../lib/banner.ts';
import { createServer } from 'node:net';

/** `npm run replay` against an in-test local server: 2xx for every source, again → duplicate. */

const SECRETS = {
  WATSONX_AUDIO_SECRET: 'replay-test-watsonx',
  VOLUBILE_WEBHOOK_SECRET: 'replay-test-volubile',
  SYNTHFLOW_WEBHOOK_TOKEN: 'replay-test-synthflow-token',
  ENGAGE_VOICE_TOKEN: 'replay-test-engage-token',
};

let server: LocalServer;
const payloads = mkdtempSync(join(tmpdir(), 'payloads-'));

/** A private copy of the fixtures with call ids no other test uses. */
function rewrite(file: string, edit: (o: Record<string, unknown>) => void) {
  const path = join(payloads, file);
  const obj: Record<string, unknown> = JSON.parse(readFileSync(path, 'utf8'));
  edit(obj);
  writeFileSync(path, JSON.stringify(obj));
}

beforeAll(async () => {
  cpSync(PAYLOADS_DIR, payloads, { recursive: true });
  rewrite('watsonx/metadata.json', (o) => { o.session_id = randomUUID(); o.recording_id = randomUUID(); });
  rewrite('volubile/call-completed.json', (o) => { o.id = randomUUID(); });
  rewrite('synthflow/call-completed.json', (o) => { o.call = { ...(o.call as object), call_id: freshSynthflowCallId() }; });
  for (const f of ['agent-termination', 'agent-termination-form', 'agent-termination-get']) rewrite(`engage-voice/${f}.json`, (o) => { o.uii = freshEngageUii(); });
  Object.assign(process.env, SECRETS);
  delete process.env.SYNTHFLOW_WEBHOOK_SECRET;
  delete process.env.ENGAGE_VOICE_BASIC_AUTH;
  delete process.env.VOLUBILE_WEBHOOK_TOKEN;
  resetConfiguration();
  server = await createLocalServer({ host: '127.0.0.1', port: 0, log: () => {} });
});

afterAll(async () => {
  await server.close();
});

describe('replay', () => {
  it.each(['watsonx', 'volubile', 'synthflow', 'engage-voice', 'engage-voice-form', 'engage-voice-get'] as const)('%s: 2xx stored, the same replay again is a duplicate', async (sample) => {
    const first = await replay({ sample, baseUrl: server.url, secrets: SECRETS, payloadsDir: payloads });
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body)).toMatchObject({ ok: true, outcome: 'stored' });
    const again = await replay({ sample, baseUrl: server.url, secrets: SECRETS, payloadsDir: payloads });
    expect(again.status).toBe(200);
    expect(JSON.parse(again.body)).toMatchObject({ ok: true, outcome: 'duplicate' });
  });

  it('--new makes a new call each time', async () => {
    const a = JSON.parse((await replay({ sample: 'volubile', baseUrl: server.url, secrets: SECRETS, fresh: true })).body);
    const b = JSON.parse((await replay({ sample: 'volubile', baseUrl: server.url, secrets: SECRETS, fresh: true })).body);
    expect(a).toMatchObject({ outcome: 'stored' });
    expect(b).toMatchObject({ outcome: 'stored' });
    expect(a.callId).not.toBe(b.callId);
  });

  it('a wrongly signed replay gets the handler 401 (non-2xx)', async () => {
    const r = await replay({ sample: 'volubile', baseUrl: server.url, secrets: { VOLUBILE_WEBHOOK_SECRET: 'wrong' }, payloadsDir: payloads });
    expect(r.status).toBe(401);
  });

  it('parses arguments and takes local secrets from DATA_DIR/secrets.json, the environment winning', () => {
    expect(parseReplayArgs(['synthflow', '--new', '--url', 'https://x.example/prod', '--set', 'SYNTHFLOW_WEBHOOK_TOKEN=t'], {}))
      .toEqual({ sample: 'synthflow', baseUrl: 'https://x.example/prod', fresh: true, overrides: { SYNTHFLOW_WEBHOOK_TOKEN: 't' } });
    expect(parseReplayArgs(['watsonx'], { PORT: '3999' })).toMatchObject({ baseUrl: 'http://127.0.0.1:3999', fresh: false });
    expect(parseReplayArgs(['nope'], {})).toMatch(/unknown argument/);
    expect(parseReplayArgs(['--set', 'AWS_SECRET_ACCESS_KEY=x', 'watsonx'], {})).toMatch(/--set needs/);
    const dataDir = mkdtempSync(join(tmpdir(), 'replay-data-'));
    writeStoredSecrets(dataDir, { ENGAGE_VOICE_TOKEN: 'stored', WATSONX_AUDIO_SECRET: 'stored-w' });
    expect(replaySecrets('http://127.0.0.1:3000', { DATA_DIR: dataDir, WATSONX_AUDIO_SECRET: 'env-w' }, {}))
      .toEqual({ ENGAGE_VOICE_TOKEN: 'stored', WATSONX_AUDIO_SECRET: 'env-w' });
    expect(replaySecrets('https://api.example.com', { DATA_DIR: dataDir }, {})).toEqual({});
  });
});

/** A command line as the shell splits it: leading NAME=value words are its environment. */
function shellSplit(line: string): { env: Record<string, string>; argv: string[] } {
  const words = (line.trim().match(/(?:[^\s'\\]+|'[^']*'|\\.)+/g) ?? []).map((w) => w.replace(/'([^']*)'|\\(.)/g, (_m, quoted?: string, escaped?: string) => quoted ?? escaped ?? ''));
  const env: Record<string, string> = {};
  while (words[0] !== undefined && /^[A-Z_]+=/.test(words[0])) {
    const [name = '', ...rest] = (words.shift() ?? '').split('=');
    env[name] = rest.join('=');
  }
  return { env, argv: words };
}

describe('the start-up banner\'s replay commands', () => {
  it('reach this server on a non-default port, signed with the secrets in a non-default DATA_DIR', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "it's my data-"));
    writeStoredSecrets(dataDir, SECRETS);
    const banner = renderBanner({
      baseUrl: server.url, env: {}, generated: SECRETS, dataDir, bucketName: 'b', tableName: 't',
      s3Endpoint: 'http://127.0.0.1:4569', dynamoEndpoint: 'http://127.0.0.1:4567',
    });
    const commands = banner.split('\n').filter((l) => l.includes('npm run replay --'));
    expect(commands.length).toBeGreaterThanOrEqual(4);
    for (const line of commands) {
      const { env, argv } = shellSplit(line);
      expect(argv.slice(0, 3)).toEqual(['npm', 'run', 'replay']);
      // Only what the shell line sets: no secret from this test's environment helps.
      const args = parseReplayArgs(argv.slice(4), env);
      if (typeof args === 'string') throw new Error(args);
      if (args.sample === 'vapi') continue; // the test server has no Vapi credential configured
      expect(args.baseUrl).toBe(server.url);
      const secrets = replaySecrets(args.baseUrl, env, args.overrides);
      expect(secrets).toEqual(SECRETS);
      const r = await replay({ sample: args.sample, baseUrl: args.baseUrl, secrets, fresh: true });
      expect(r.status, `${line}: ${r.body}`).toBe(200);
    }
  });

  it('stay the plain command for the defaults', () => {
    const banner = renderBanner({
      baseUrl: 'http://127.0.0.1:3000', env: {}, generated: {}, dataDir: join(process.cwd(), '.data'), bucketName: 'b', tableName: 't',
      s3Endpoint: 'http://127.0.0.1:4569', dynamoEndpoint: 'http://127.0.0.1:4567',
    });
    expect(banner).toContain('\n  npm run replay -- watsonx\n');
  });
});

describe('a replay that reaches no server', () => {
  it('names the URL it tried (without the token) and why, not only "fetch failed"', async () => {
    // A port that was free a moment ago and is closed now: connection refused.
    const port = await new Promise<number>((done) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => done(typeof address === 'object' && address ? address.port : 0));
      });
    });
    const attempt = replay({ sample: 'engage-voice', baseUrl: `http://127.0.0.1:${port}`, secrets: SECRETS, payloadsDir: payloads });
    await expect(attempt).rejects.toThrow(`POST http://127.0.0.1:${port}/engage-voice: fetch failed (connect ECONNREFUSED 127.0.0.1:${port}) — is npm start running there?`);
    await expect(attempt).rejects.not.toThrow(SECRETS.ENGAGE_VOICE_TOKEN);
  });
});

describe('replay --recordings: sample recording links pointed at a local file server', () => {
  it('rewrites every recording URL of the Synthflow and Engage Voice samples, keeping the file names', () => {
    const sf = readFileSync(new URL('../../events/payloads/synthflow/call-completed.json', import.meta.url));
    const ev = readFileSync(new URL('../../events/payloads/engage-voice/agent-termination.json', import.meta.url));
    const sfOut = JSON.parse(pointRecordingsAt(sf, 'http://127.0.0.1:8080/').toString()) as { call: { recording_url: string } };
    expect(sfOut.call.recording_url).toBe('http://127.0.0.1:8080/1711646262471x768387119913843100.wav');
    const evOut = JSON.parse(pointRecordingsAt(ev, 'http://127.0.0.1:8080').toString()) as Record<string, string>;
    expect(evOut.recording_url).toBe('http://127.0.0.1:8080/202611201412050130040000123456.wav');
    expect(evOut.sess_agent_perspective_recording_url).toBe('http://127.0.0.1:8080/202611201412050130040000123456-1004217.wav');
    expect(parseReplayArgs(['engage-voice', '--recordings', 'http://127.0.0.1:8080'], {})).toMatchObject({ recordingsBase: 'http://127.0.0.1:8080' });
    expect(parseReplayArgs(['engage-voice', '--recordings'], {})).toMatch(/--recordings needs a base URL/);
  });
});
