import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LambdaHandler } from '#shared/handler';
import { setLogSink } from '#shared/log';
import { handler as audioWebhook } from '../../functions/audio-webhook/handler.ts';
import { handler as callCompleted } from '../../functions/call-completed/handler.ts';
import { handler as engageVoice } from '../../functions/engage-voice/handler.ts';
import { createLocalServer, type LocalServer } from '../../lib/local-server.ts';
import { toEvent, watsonxAuth, volubileSignature, synthflowSignature, HOSTILE_SECRETS, payloadBytes, type HostileCase, type Route } from '../fixtures/hostile/common.ts';
import { audioWebhookCases, metaPart, audioPart, multipartBody } from '../fixtures/hostile/audio-webhook.ts';
import { volubileCases, synthflowCases } from '../fixtures/hostile/call-completed.ts';
import { engageVoiceCases } from '../fixtures/hostile/engage-voice.ts';
import { routeLevelCases } from '../fixtures/hostile/routes.ts';
import { vapiCases, vapiInput, vapiNotACallCases } from '../fixtures/hostile/vapi.ts';
import { countAll } from '../support/storage.ts';
import { errorBody, ownStorage, send, writes } from './support.ts';

/**
 * The hostile-input corpus (test/fixtures/hostile/), every case through the
 * real handler — or, for route-level cases, through a real local server — on
 * the real embedded S3/DynamoDB, in a bucket and table of this file's own.
 * Each case: its expected 4xx, a JSON {error, message} naming the problem,
 * and nothing written (objects + items counted before and after).
 */

const HANDLERS: Record<Route, LambdaHandler> = {
  'audio-webhook': audioWebhook,
  volubile: callCompleted,
  synthflow: callCompleted,
  'engage-voice': engageVoice,
  vapi: callCompleted,
};

const ALL: HostileCase[] = [...audioWebhookCases, ...volubileCases, ...synthflowCases, ...engageVoiceCases, ...vapiCases, ...routeLevelCases];

let bucket = '';
let table = '';
let server: LocalServer;
const logLines: string[] = [];
let restoreSink: ((line: string) => void) | undefined;
const gaps = new Set<string>();
const tally = new Map<Route, { cases: number; fiveXx: number; writes: number }>();

beforeAll(async () => {
  ({ bucket, table } = await ownStorage('hostile-corpus'));
  restoreSink = setLogSink((line) => { logLines.push(line); });
  server = await createLocalServer({ host: '127.0.0.1', port: 0, log: (line) => logLines.push(line) });
});

afterAll(async () => {
  await server?.close();
  if (restoreSink) setLogSink(restoreSink);
  const rows = [...tally].map(([route, t]) => `${route}: ${t.cases} cases, ${t.fiveXx} 5xx, ${t.writes} writes`);
  console.log(`hostile corpus — ${rows.join('; ')}`);
  if (gaps.size > 0) console.log(`known gaps:\n  ${[...gaps].join('\n  ')}`);
});

async function run(c: HostileCase): Promise<{ status: number; body: string }> {
  const input = c.request();
  if (c.via === 'server') {
    const reply = await send(server.url, input);
    return { status: reply.status, body: reply.body };
  }
  const res = await HANDLERS[c.route](toEvent(input));
  return { status: res.statusCode ?? 0, body: typeof res.body === 'string' ? res.body : '' };
}

describe('hostile corpus: every case is a JSON 4xx that names the problem, and writes nothing', () => {
  it('has unique ids and at least 40 cases per route', () => {
    expect(new Set(ALL.map((c) => c.id)).size).toBe(ALL.length);
    for (const route of ['audio-webhook', 'volubile', 'synthflow', 'engage-voice', 'vapi'] as const) {
      expect(ALL.filter((c) => c.route === route).length, route).toBeGreaterThanOrEqual(40);
    }
    for (const c of ALL) expect(c.status, c.id).toBeGreaterThanOrEqual(400);
  });

  for (const c of ALL) {
    it(`${c.route} ${c.id}: ${c.what} → ${c.status}`, async () => {
      const before = await writes(bucket, table);
      const { status, body } = await run(c);
      const after = await writes(bucket, table);
      const t = tally.get(c.route) ?? { cases: 0, fiveXx: 0, writes: 0 };
      t.cases += 1;
      if (status >= 500) t.fiveXx += 1;
      t.writes += after - before;
      tally.set(c.route, t);

      expect(after - before, 'objects + items written').toBe(0);
      expect(status, body.slice(0, 300)).toBe(c.status);
      // HEAD answers carry no body by definition of HTTP; every other answer is the JSON error.
      if (c.id.endsWith('method-head')) return;
      if (c.gap !== undefined) {
        gaps.add(`${c.id}: ${c.gap}`);
        return;
      }
      const parsed = errorBody(body);
      expect(parsed, `case ${c.id}`).toBeTypeOf('object');
      if (typeof parsed === 'object') {
        if (c.error) expect(parsed.error).toBe(c.error);
        expect(parsed.message.length).toBeGreaterThan(5);
      }
    });
  }

  it('totals: no 5xx and no write for any case', () => {
    let total = 0;
    for (const [, t] of tally) {
      expect(t.fiveXx).toBe(0);
      expect(t.writes).toBe(0);
      total += t.cases;
    }
    expect(total).toBe(ALL.length);
  });
});

describe('control: the same configuration stores valid deliveries (so the rejections above are the inputs, not the setup)', () => {
  it('accepts one valid request per route and writes it', async () => {
    const before = await writes(bucket, table);
    const audio = await audioWebhook(toEvent({
      target: '/audio-webhook',
      headers: { ...watsonxAuth(), 'content-type': 'multipart/form-data; boundary=hostileBoundary7MA4YWxkTrZu0gW' },
      body: multipartBody([metaPart(), audioPart()]),
    }));
    expect(audio.statusCode, audio.body).toBe(200);

    const vBody = payloadBytes('volubile/call-completed.json');
    const vol = await callCompleted(toEvent({
      target: '/call-completed/volubile',
      headers: { 'content-type': 'application/json', 'x-webhook-signature': volubileSignature(vBody) },
      body: vBody,
    }));
    expect(vol.statusCode, vol.body).toBe(200);

    const sBody = payloadBytes('synthflow/call-completed.json');
    const syn = await callCompleted(toEvent({
      target: `/call-completed/synthflow?token=${HOSTILE_SECRETS.SYNTHFLOW_WEBHOOK_TOKEN}`,
      headers: { 'content-type': 'application/json', 'synthflow-signature': synthflowSignature('1711646262471x768387119913843100') },
      body: sBody,
    }));
    expect(syn.statusCode, syn.body).toBe(200);

    const eng = await send(server.url, {
      target: `/engage-voice?token=${HOSTILE_SECRETS.ENGAGE_VOICE_TOKEN}`,
      headers: { 'content-type': 'application/json' },
      body: payloadBytes('engage-voice/agent-termination.json'),
    });
    expect(eng.status, eng.body).toBe(200);

    const vapi = await callCompleted(toEvent(vapiInput(payloadBytes('vapi/end-of-call-report.json'))));
    expect(vapi.statusCode, vapi.body).toBe(200);

    // audio: WAV + raw + item; volubile, synthflow, engage, vapi: raw + item each
    expect(await writes(bucket, table)).toBe(before + 11);
  });
});

describe('Vapi server messages that are not calls: a 2xx, archived raw, never indexed', () => {
  for (const m of vapiNotACallCases) {
    it(`vapi-not-a-call ${m.id}: ${m.what} → 200, one raw object, no index item`, async () => {
      const before = await countAll(bucket, table);
      const res = await callCompleted(toEvent(m.request()));
      const after = await countAll(bucket, table);
      expect(res.statusCode, res.body).toBe(200);
      expect(JSON.parse(String(res.body))).toMatchObject({ outcome: 'not-a-call', indexed: false, messageType: m.messageType });
      expect(after.objects - before.objects).toBe(1);
      expect(after.items - before.items).toBe(0);
    });
  }
});
