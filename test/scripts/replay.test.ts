import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetConfiguration } from '#shared/handler';
import { createLocalServer, type LocalServer } from '../../local/server.ts';
import { replay, parseReplayArgs, replaySecrets } from '../../scripts/replay.ts';
import { PAYLOADS_DIR, freshEngageUii, freshSynthflowCallId } from '../../scripts/lib/samples.ts';
import { writeStoredSecrets } from '../../local/secrets.ts';

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
  rewrite('engage-voice/agent-termination.json', (o) => { o.uii = freshEngageUii(); });
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
  it.each(['watsonx', 'volubile', 'synthflow', 'engage-voice', 'engage-voice-get'] as const)('%s: 2xx stored, the same replay again is a duplicate', async (sample) => {
    const first = await replay({ sample, baseUrl: server.url, secrets: SECRETS, payloadsDir: payloads });
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body)).toMatchObject({ ok: true, outcome: sample === 'engage-voice-get' ? expect.stringMatching(/stored|stale/) : 'stored' });
    const again = await replay({ sample, baseUrl: server.url, secrets: SECRETS, payloadsDir: payloads });
    expect(again.status).toBe(200);
    // The GET variant carries the same call as the JSON one replayed before it: same version, other bytes → stale.
    expect(JSON.parse(again.body)).toMatchObject({ ok: true, outcome: sample === 'engage-voice-get' ? expect.stringMatching(/duplicate|stale/) : 'duplicate' });
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
