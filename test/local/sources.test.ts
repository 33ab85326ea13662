import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetConfiguration } from '#shared/handler';
import { createLocalServer, type DeliveryEvent, type LocalServer } from '../../lib/local-server.ts';
import { PAYLOADS_DIR, freshEngageUii, freshSynthflowCallId } from '../../lib/samples.ts';
import { basicAuthorization, synthflowSignature, volubileSignature, watsonxJwt } from '../../lib/requests.ts';
import { getObjectBytes, listKeys } from '../support/storage.ts';

/**
 * Every source end to end through the local server, sent by a real HTTP
 * client (Node's fetch; multipart through FormData/Blob), checked in the real
 * embedded S3.
 */

const SECRETS = {
  WATSONX_AUDIO_SECRET: 'sources-test-watsonx-secret',
  VOLUBILE_WEBHOOK_SECRET: 'sources-test-volubile-secret',
  SYNTHFLOW_WEBHOOK_SECRET: 'sources-test-synthflow-secret',
  SYNTHFLOW_WEBHOOK_TOKEN: 'sources-test-synthflow-token',
  ENGAGE_VOICE_TOKEN: 'sources-test-engage-token',
  ENGAGE_VOICE_BASIC_AUTH: 'ringcx:sources-test-password',
};

let server: LocalServer;
const deliveries: DeliveryEvent[] = [];
const fixture = (...p: string[]) => readFileSync(join(PAYLOADS_DIR, ...p));

beforeAll(async () => {
  Object.assign(process.env, SECRETS);
  resetConfiguration();
  server = await createLocalServer({ host: '127.0.0.1', port: 0, log: () => {}, onDelivery: (e) => deliveries.push(e) });
});

afterAll(async () => {
  await server.close();
});

function freshMetadata(): { bytes: Buffer; sessionId: string; recordingId: string } {
  const meta: unknown = JSON.parse(fixture('watsonx', 'metadata.json').toString());
  const sessionId = randomUUID();
  const recordingId = randomUUID();
  const bytes = Buffer.from(JSON.stringify({ ...(meta as object), session_id: sessionId, recording_id: recordingId }));
  return { bytes, sessionId, recordingId };
}

async function rawArchive(source: string, callId: string): Promise<Buffer> {
  const keys = (await listKeys(`raw/${source}/`)).filter((k) => k.includes(callId));
  expect(keys).toHaveLength(1);
  return getObjectBytes(keys[0]!);
}

describe('all four sources through the local server', () => {
  it('watsonx: multipart µ-law audio (FormData + Blob) is stored as a playable WAV with the exact bytes', async () => {
    const ulaw = fixture('watsonx', 'recording.ulaw');
    const meta = freshMetadata();
    const form = new FormData();
    form.append('metadata', new Blob([meta.bytes], { type: 'application/json' }));
    form.append('audio_recording', new Blob([ulaw], { type: 'audio/mulaw;rate=8000' }));
    const res = await fetch(`${server.url}/audio-webhook`, {
      method: 'POST', headers: { authorization: `Bearer ${await watsonxJwt(SECRETS.WATSONX_AUDIO_SECRET)}` }, body: form,
    });
    const body = await res.json();
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ ok: true, outcome: 'stored', recordingId: meta.recordingId });
    const wav = await getObjectBytes(String((body as { audioKey: unknown }).audioKey));
    expect(wav.subarray(0, 4).toString()).toBe('RIFF');
    expect(wav.readUInt16LE(20)).toBe(7);
    expect(wav.subarray(wav.length - ulaw.length).equals(ulaw)).toBe(true);
    expect(deliveries.at(-1)).toMatchObject({ routeKey: 'ANY /audio-webhook', source: 'watsonx', status: 200, outcome: 'stored', callId: meta.sessionId });
  });

  it('watsonx: a WAV file with a filename and a metadata part without content type is stored as is', async () => {
    const wavIn = fixture('watsonx', 'recording.wav');
    const meta = freshMetadata();
    const form = new FormData();
    form.append('metadata', meta.bytes.toString());
    form.append('audio_recording', new File([wavIn], 'recording.wav', { type: 'audio/wav' }));
    const res = await fetch(`${server.url}/audio-webhook`, {
      method: 'POST', headers: { authorization: await watsonxJwt(SECRETS.WATSONX_AUDIO_SECRET) }, body: form,
    });
    const body = await res.json();
    expect(res.status).toBe(200);
    const stored = await getObjectBytes(String((body as { audioKey: unknown }).audioKey));
    expect(stored.equals(wavIn)).toBe(true);
  });

  it('Volubile: the signed JSON body is archived byte for byte', async () => {
    const id = randomUUID();
    const payload = Buffer.from(fixture('volubile', 'call-completed.json').toString().replace(/"id":\s*"[^"]+"/, `"id": "${id}"`));
    const res = await fetch(`${server.url}/call-completed/volubile`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-webhook-signature': volubileSignature(SECRETS.VOLUBILE_WEBHOOK_SECRET, payload) },
      body: payload,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ outcome: 'stored', callId: id });
    expect((await rawArchive('volubile', id)).equals(payload)).toBe(true);
  });

  it('Synthflow: token plus call_id signature; body archived byte for byte', async () => {
    const callId = freshSynthflowCallId();
    const payload = Buffer.from(fixture('synthflow', 'call-completed.json').toString().replace(/"call_id":\s*"[^"]+"/, `"call_id": "${callId}"`));
    const res = await fetch(`${server.url}/call-completed/synthflow?token=${SECRETS.SYNTHFLOW_WEBHOOK_TOKEN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'X-Synthflow-Signature': synthflowSignature(SECRETS.SYNTHFLOW_WEBHOOK_SECRET, callId) },
      body: payload,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ outcome: 'stored', callId });
    expect((await rawArchive('synthflow', callId)).equals(payload)).toBe(true);
  });

  it('Engage Voice: a form-urlencoded post (base64 in the event) is archived byte for byte', async () => {
    const fields: unknown = JSON.parse(fixture('engage-voice', 'agent-termination.json').toString());
    const uii = freshEngageUii();
    const payload = new URLSearchParams({ ...(fields as Record<string, string>), uii }).toString();
    const res = await fetch(`${server.url}/engage-voice?token=${SECRETS.ENGAGE_VOICE_TOKEN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuthorization(SECRETS.ENGAGE_VOICE_BASIC_AUTH) },
      body: payload,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ outcome: 'stored', callId: uii });
    expect((await rawArchive('engage-voice', uii)).toString()).toBe(payload);
  });

  it('a bad signature is a 401 and stores nothing', async () => {
    const id = randomUUID();
    const payload = Buffer.from(fixture('volubile', 'call-completed.json').toString().replace(/"id":\s*"[^"]+"/, `"id": "${id}"`));
    const res = await fetch(`${server.url}/call-completed/volubile`, {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-webhook-signature': '00'.repeat(32) }, body: payload,
    });
    expect(res.status).toBe(401);
    expect((await listKeys('raw/volubile/')).filter((k) => k.includes(id))).toEqual([]);
  });
});
