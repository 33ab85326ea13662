import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHmac } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { jwtVerify, decodeProtectedHeader } from 'jose';
import { resetConfiguration } from '#shared/handler';
import { writeEvents, SAMPLE_SECRETS, SAMPLE_ENV } from '../../lib/sam-events.ts';
import { invokeHandler, readEvent, readEnvFile } from '../../lib/commands/invoke.ts';
import { SAMPLES, SAMPLE_NAMES } from '../../lib/samples.ts';

/** `npm run events` output: valid API Gateway events, correctly signed, each accepted by its handler. */

const dir = mkdtempSync(join(tmpdir(), 'events-'));
const bodyOf = (e: ReturnType<typeof readEvent>) => Buffer.from(e.body ?? '', e.isBase64Encoded ? 'base64' : 'utf8');

beforeAll(async () => {
  await writeEvents(dir);
  Object.assign(process.env, SAMPLE_SECRETS, { ENGAGE_VOICE_TIMEZONE: SAMPLE_ENV.ENGAGE_VOICE_TIMEZONE });
  resetConfiguration();
});

describe('generated events', () => {
  it('writes env.json in SAM --env-vars format with the storage names and the fake secrets', () => {
    const params = readEnvFile(join(dir, 'env.json'));
    expect(params).toMatchObject({ BUCKET_NAME: 'voice-webhooks-local', TABLE_NAME: 'voice-webhooks-local', ...SAMPLE_SECRETS });
    for (const v of Object.values(SAMPLE_SECRETS)) expect(v).toMatch(/fake/);
  });

  it('writes every fixed event file name', () => {
    expect(SAMPLE_NAMES.map((n) => SAMPLES[n].eventFile).sort()).toEqual([
      'engage-voice-form.json', 'engage-voice-get.json', 'engage-voice-json.json', 'engage-voice-transfer.json',
      'synthflow-call-completed.json', 'vapi-end-of-call-report.json', 'vapi-status-update.json', 'volubile-call-completed.json',
      'watsonx-recording-2.json', 'watsonx-recording-wav.json', 'watsonx-recording.json',
    ]);
  });

  it('signs watsonx with a valid HS256 JWT without exp (committed events work any day); multipart is base64', async () => {
    for (const f of ['watsonx-recording.json', 'watsonx-recording-wav.json', 'watsonx-recording-2.json']) {
      const e = readEvent(join(dir, f));
      expect(e.isBase64Encoded).toBe(true);
      expect(e.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
      const jwt = (e.headers.authorization ?? '').replace(/^Bearer /, '');
      expect(decodeProtectedHeader(jwt).alg).toBe('HS256');
      const { payload } = await jwtVerify(jwt, new TextEncoder().encode(SAMPLE_SECRETS.WATSONX_AUDIO_SECRET));
      expect(payload).not.toHaveProperty('exp');
      expect(typeof payload.iat).toBe('number');
    }
    const documented = bodyOf(readEvent(join(dir, 'watsonx-recording.json'))).toString('latin1');
    expect(documented).toContain('Content-Disposition: form-data; name="audio_recording"\r\nContent-Type: audio/mulaw;rate=8000\r\n');
    const wav = bodyOf(readEvent(join(dir, 'watsonx-recording-wav.json'))).toString('latin1');
    expect(wav).toContain('name="audio_recording"; filename="recording.wav"');
    expect(wav).toContain('name="metadata"\r\n\r\n');
  });

  it('signs Vapi as an HMAC credential without a timestamp (replayable later) plus a Bearer credential', () => {
    for (const f of ['vapi-end-of-call-report.json', 'vapi-status-update.json']) {
      const e = readEvent(join(dir, f));
      expect(e.rawPath).toBe('/call-completed/vapi');
      expect(e.headers['x-vapi-signature']).toBe(createHmac('sha256', SAMPLE_SECRETS.VAPI_WEBHOOK_SECRET).update(bodyOf(e)).digest('hex'));
      expect(e.headers['x-vapi-timestamp']).toBeUndefined();
      expect(e.headers.authorization).toBe(`Bearer ${SAMPLE_SECRETS.VAPI_WEBHOOK_TOKEN}`);
    }
  });

  it('signs Volubile (hex HMAC of the body) and Synthflow (base64 HMAC of call_id, plus token)', () => {
    const vol = readEvent(join(dir, 'volubile-call-completed.json'));
    expect(vol.isBase64Encoded).toBe(false);
    expect(vol.headers['x-webhook-signature']).toBe(createHmac('sha256', SAMPLE_SECRETS.VOLUBILE_WEBHOOK_SECRET).update(bodyOf(vol)).digest('hex'));
    const syn = readEvent(join(dir, 'synthflow-call-completed.json'));
    const callId = (JSON.parse(bodyOf(syn).toString()) as { call: { call_id: string } }).call.call_id;
    expect(syn.headers['x-synthflow-signature']).toBe(createHmac('sha256', SAMPLE_SECRETS.SYNTHFLOW_WEBHOOK_SECRET).update(callId).digest('base64'));
    expect(syn.queryStringParameters?.token).toBe(SAMPLE_SECRETS.SYNTHFLOW_WEBHOOK_TOKEN);
    expect(syn.routeKey).toBe('ANY /call-completed/synthflow');
  });

  it('builds the Engage Voice JSON, form (base64) and GET (query, no body) variants with token and Basic', () => {
    const basic = `Basic ${Buffer.from(SAMPLE_SECRETS.ENGAGE_VOICE_BASIC_AUTH).toString('base64')}`;
    const json = readEvent(join(dir, 'engage-voice-json.json'));
    const form = readEvent(join(dir, 'engage-voice-form.json'));
    const get = readEvent(join(dir, 'engage-voice-get.json'));
    for (const e of [json, form, get]) {
      expect(e.headers.authorization).toBe(basic);
      expect(e.queryStringParameters?.token).toBe(SAMPLE_SECRETS.ENGAGE_VOICE_TOKEN);
    }
    expect(json.isBase64Encoded).toBe(false);
    expect(form.isBase64Encoded).toBe(true);
    expect(new URLSearchParams(bodyOf(form).toString()).get('uii')).toMatch(/^\d{30}$/);
    expect(get).not.toHaveProperty('body');
    expect(get.requestContext.http.method).toBe('GET');
    expect(get.queryStringParameters?.uii).toMatch(/^\d{30}$/);
  });

  it('every generated event is accepted by its handler (invoke)', async () => {
    for (const name of SAMPLE_NAMES) {
      const { functionName, eventFile } = SAMPLES[name];
      const result = await invokeHandler(functionName, readEvent(join(dir, eventFile)));
      expect({ name, status: result.statusCode }).toEqual({ name, status: 200 });
      expect(JSON.parse(String(result.body))).toMatchObject({ ok: true, outcome: expect.stringMatching(/^(stored|duplicate|stale|not-a-call)$/) });
    }
  });

  it('the committed events/ files are in the same shape as freshly generated ones', () => {
    const committed: unknown = JSON.parse(readFileSync(join(import.meta.dirname, '../../events/volubile-call-completed.json'), 'utf8'));
    const fresh: unknown = JSON.parse(readFileSync(join(dir, 'volubile-call-completed.json'), 'utf8'));
    expect(Object.keys(committed as object).sort()).toEqual(Object.keys(fresh as object).sort());
  });
});
