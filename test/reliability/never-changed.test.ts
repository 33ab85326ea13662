import { describe, it, expect, beforeAll } from 'vitest';
import { randomUUID } from 'node:crypto';
import { loadHandlers, outcomeOf, type Handlers } from './support/handlers.ts';
import { sampleEnvironment, freshUii, engageDelivery, type Delivery } from '../../lib/traffic.ts';
import { engageVoiceRequest, synthflowRequest, volubileRequest, watsonxJwt, watsonxRequest } from '../../lib/requests.ts';
import { getItems, getObjectBytes, headObject, listKeys } from '../support/storage.ts';

/**
 * What the index says equals what the sender sent: keys such as `__proto__`
 * are never merged into their parent, ids are never another number, only a
 * valid phone number becomes E.164, documented vendor fields are kept. Real
 * handlers on the suite's s3rver and dynalite.
 */

const secrets = sampleEnvironment();
let handlers: Handlers;

beforeAll(async () => {
  // The suite's bucket and table, with the sample secrets the requests are signed with.
  const { BUCKET_NAME, TABLE_NAME } = process.env;
  Object.assign(process.env, secrets, { BUCKET_NAME, TABLE_NAME });
  (await import('#shared/log')).setLogSink(() => undefined);
  handlers = await loadHandlers();
});

function volubile(body: string): Delivery {
  const id = randomUUID();
  const bytes = Buffer.from(body.replace('$ID', id));
  return { source: 'volubile', callId: id, request: volubileRequest(bytes, { secret: secrets.VOLUBILE_WEBHOOK_SECRET, token: secrets.VOLUBILE_WEBHOOK_TOKEN }) };
}

function synthflow(body: Record<string, unknown>, callId = `${Date.now()}x${randomUUID().slice(0, 8)}`): Delivery {
  const call = { call_id: callId, status: 'completed', start_time: '2026-11-20T18:17:46.205134+01:00', duration: 32, ...(body.call as object | undefined) };
  const bytes = Buffer.from(JSON.stringify({ status: 'completed', ...body, call }));
  return { source: 'synthflow', callId, request: synthflowRequest(bytes, { secret: secrets.SYNTHFLOW_WEBHOOK_SECRET, token: secrets.SYNTHFLOW_WEBHOOK_TOKEN }) };
}

function engageJson(body: string, callId: string): Delivery {
  return { source: 'engage-voice', callId, request: engageVoiceRequest({}, 'json', { token: secrets.ENGAGE_VOICE_TOKEN, basic: secrets.ENGAGE_VOICE_BASIC_AUTH }, Buffer.from(body)) };
}

async function deliver(d: Delivery): Promise<Record<string, unknown>> {
  const res = await handlers.invoke(d);
  expect(res.statusCode, String(res.body)).toBe(200);
  expect(outcomeOf(res)).toBe('stored');
  const items = await getItems(d.source, d.callId);
  expect(items).toHaveLength(1);
  return items[0]!.record as Record<string, unknown>;
}

describe('__proto__ in a vendor JSON', () => {
  it('is never merged into its parent: the index holds the map key for key, or leaves it to the archive', async () => {
    const d = volubile('{"id":"$ID","status":"COMPLETED","extractorData":{"__proto__":{"isAdmin":true},"k":"v"},"classifierData":{"__proto__":"x","tone":"calm"}}');
    const record = await deliver(d);
    expect(record.extracted).toBeUndefined();
    expect(record.labels).toBeUndefined();
    expect(record.archivedOnly).toEqual([
      { field: 'extracted', reason: 'has a key the index cannot hold (__proto__)' },
      { field: 'labels', reason: 'has a key the index cannot hold (__proto__)' },
    ]);
    expect((await getObjectBytes(String(record.rawS3Key))).equals(d.request.body!)).toBe(true);
  });

  it('Engage Voice fields named __proto__, constructor or prototype are kept, not dropped', async () => {
    const uii = freshUii();
    const record = await deliver(engageJson(JSON.stringify({ uii, constructor: 'c', prototype: 'p', queue_name: 'Billing' }), uii));
    expect(record.extracted).toEqual({ constructor: 'c', prototype: 'p', queue_name: 'Billing' });
  });
});

describe('Engage Voice uii sent as a JSON number', () => {
  it('beyond 2^53 keeps its exact digits', async () => {
    const uii = '20261120141205013';
    expect(String(Number(uii))).not.toBe(uii); // a JavaScript number cannot hold it
    const d = engageJson(`{"uii":${uii},"agent_id":"1004217","call_start":"2026-11-20 09:12:05.4830","duration":"00:03:25"}`, uii);
    const record = await deliver(d);
    expect(record.callId).toBe(uii);
  });
});

describe('phone numbers: only a valid number becomes E.164, in every source', () => {
  const notValid = '06 12 34 56 79'; // a French mobile written nationally; read with region US it is +10612345679, no one's number
  const expectVerbatim = async (d: Delivery, field: 'customerNumber' | 'dialedNumber' = 'customerNumber') => {
    const record = await deliver(d);
    expect(record[field]).toBe(notValid);
    const items = await getItems(d.source, d.callId);
    expect(items[0]).not.toHaveProperty('GSI2PK');
  };
  it('Volubile', async () => {
    await expectVerbatim(volubile(`{"id":"$ID","status":"COMPLETED","phone":"${notValid}"}`));
  });
  it('Synthflow', async () => {
    await expectVerbatim(synthflow({ lead: { phone_number: notValid } }));
  });
  it('Engage Voice (ani and dnis)', async () => {
    const uii = freshUii();
    const d = engageJson(JSON.stringify({ uii, ani: notValid, dnis: notValid, call_type: 'INBOUND' }), uii);
    await expectVerbatim(d);
    const items = await getItems(d.source, d.callId);
    expect(items[0]!.record.dialedNumber).toBe(notValid);
  });
  it('a valid number is still E.164 and indexed by phone', async () => {
    const d = volubile('{"id":"$ID","status":"COMPLETED","phone":"+33 6 12 34 56 78"}');
    const record = await deliver(d);
    expect(record.customerNumber).toBe('+33612345678');
    expect((await getItems(d.source, d.callId))[0]!.GSI2PK).toBe('PHONE#+33612345678');
  });
  it('a verbatim +E.164-looking number that is not valid stays out of the phone index', async () => {
    const d = volubile('{"id":"$ID","status":"COMPLETED","phone":"+10612345679"}');
    const record = await deliver(d);
    expect(record.customerNumber).toBe('+10612345679');
    expect((await getItems(d.source, d.callId))[0]).not.toHaveProperty('GSI2PK');
  });
});

describe('Synthflow documented fields', () => {
  it('keeps custom_end_call_reason, call.external_id, analysis with its _feedback, and collected_variables by agent id', async () => {
    const analysis = { persona: 'true', persona_feedback: 'Stayed on script', call_outcome: { result: 'partial', result_feedback: 'no date' }, goal_reached: false };
    const collected = { 'agent-7f3c': { budget: '450000', move_in: 'spring' } };
    const d = synthflow({
      call: { end_call_reason: 'custom', custom_end_call_reason: 'caller asked for a human', external_id: 'crm-4711', analysis, collected_variables: collected },
    });
    const record = await deliver(d);
    expect(record.extracted).toMatchObject({
      custom_end_call_reason: 'caller asked for a human',
      external_id: 'crm-4711',
      analysis,
      collected_variables: collected,
    });
    expect(record.labels).toMatchObject({ persona: 'true', persona_feedback: 'Stayed on script', goal_reached: 'false' });
  });
});

describe("Engage Voice body exactly as RingCentral's guide shows it (no uii)", () => {
  const example = (agentId: string, recording: string) => JSON.stringify({
    agentId, agentUsername: `agent${agentId}@example.com`, ani: '6175550142', dnis: '8885550100',
    callStart: '2026-11-20 09:12:05.4830', duration: '205', recordingUrl: `https://recordings.example.com/engage/${recording}.wav`,
  });
  const send = async (body: string) => {
    const d = engageJson(body, '');
    const res = await handlers.invoke(d);
    return { status: res.statusCode, body: JSON.parse(String(res.body)) as Record<string, unknown> };
  };

  it('is stored under a stable derived call id; a retry is a duplicate; two segments are two items; the answer says to add #uii#', async () => {
    const tag = randomUUID();
    const first = await send(example('1004217', `${tag}-a`));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ outcome: 'stored', derivedCallId: true, callId: expect.stringMatching(/^nouii-[0-9a-f]{24}$/) });
    expect(String(first.body.hint)).toContain('uii=#uii#');
    const retry = await send(example('1004217', `${tag}-a`));
    expect(retry.body).toMatchObject({ outcome: 'duplicate', callId: first.body.callId });
    const other = await send(example('1004388', `${tag}-b`));
    expect(other.body).toMatchObject({ outcome: 'stored' });
    expect(other.body.callId).not.toBe(first.body.callId);
    const items = await getItems('engage-voice', String(first.body.callId));
    expect(items).toHaveLength(1);
    expect(items[0]!.record).toMatchObject({ customerNumber: '+16175550142', agent: { id: '1004217' }, durationSec: 205 });
  });

  it('a body with nothing that identifies the call is still a 400 that says to add uii', async () => {
    const res = await send(JSON.stringify({ duration: '5' }));
    expect(res.status).toBe(400);
    expect(String(res.body.message)).toContain('uii=#uii#');
  });
});

describe('Engage Voice token among the fields (as well as in the URL)', () => {
  const token = secrets.ENGAGE_VOICE_TOKEN!;
  const archiveOf = async (d: Delivery) => {
    const res = await handlers.invoke(d);
    expect(res.statusCode, String(res.body)).toBe(200);
    const items = await getItems(d.source, d.callId);
    const key = String(items[0]!.record.rawS3Key);
    return { bytes: await getObjectBytes(key), head: await headObject(key) };
  };

  it('a JSON body field: the archive has it redacted, every other byte as sent, and its metadata says so', async () => {
    const uii = freshUii();
    const body = `{ "uii": "${uii}", "token" : "${token}", "agent_id": "1004217", "TOKEN": 12345 }`;
    const d: Delivery = { source: 'engage-voice', callId: uii, request: engageVoiceRequest({}, 'json', { token, basic: secrets.ENGAGE_VOICE_BASIC_AUTH }, Buffer.from(body)) };
    const { bytes, head } = await archiveOf(d);
    expect(bytes.toString('utf8')).toBe(`{ "uii": "${uii}", "token" : "[redacted]", "agent_id": "1004217", "TOKEN": "[redacted]" }`);
    expect(head.Metadata?.redacted).toBe('token');
  });

  it('a form body field: the pair is left out, the rest byte-exact', async () => {
    const uii = freshUii();
    const body = `uii=${uii}&token=${encodeURIComponent(token)}&agent_id=1004217&queue_name=Billing+Support`;
    const d: Delivery = { source: 'engage-voice', callId: uii, request: engageVoiceRequest({}, 'form', { token, basic: secrets.ENGAGE_VOICE_BASIC_AUTH }) };
    d.request.body = Buffer.from(body);
    const { bytes, head } = await archiveOf(d);
    expect(bytes.toString('utf8')).toBe(`uii=${uii}&agent_id=1004217&queue_name=Billing+Support`);
    expect(head.Metadata?.redacted).toBe('token');
  });

  it('a query parameter on a POST without a body: left out of the archive, and the metadata says so', async () => {
    const uii = freshUii();
    const d = engageDelivery(secrets, uii, 205, 'get');
    d.request.method = 'POST';
    const { bytes, head } = await archiveOf(d);
    expect(bytes.toString('utf8')).not.toContain(token);
    expect(bytes.toString('utf8')).not.toContain(encodeURIComponent(token));
    expect(head.Metadata?.redacted).toBe('token');
  });
});

describe('a UTF-8 BOM at the start of a text body', () => {
  it('reaches the handler and the archive byte-exact, so its signature verifies', async () => {
    const id = randomUUID();
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`{"id":"${id}","status":"COMPLETED"}`)]);
    const d: Delivery = { source: 'volubile', callId: id, request: volubileRequest(bytes, { secret: secrets.VOLUBILE_WEBHOOK_SECRET, token: secrets.VOLUBILE_WEBHOOK_TOKEN }) };
    const record = await deliver(d);
    expect((await getObjectBytes(String(record.rawS3Key))).equals(bytes)).toBe(true);
  });
});

describe('watsonx audio the product cannot play, ids that make unsafe keys, part header limits', () => {
  const meta = (over: Record<string, string> = {}) => Buffer.from(JSON.stringify({
    session_id: randomUUID(), recording_id: randomUUID(), start_timestamp: '2026-11-20T14:03:27.481Z', stop_timestamp: '2026-11-20T14:03:29.481Z', ...over,
  }));
  const rawMultipart = async (parts: string[], tail: Buffer = Buffer.alloc(0)): Promise<Delivery> => {
    const boundary = `----b${randomUUID()}`;
    const body = Buffer.concat([Buffer.from(parts.map((p) => `--${boundary}\r\n${p}\r\n`).join('')), tail, Buffer.from(`\r\n--${boundary}--\r\n`)]);
    const jwt = await watsonxJwt(secrets.WATSONX_AUDIO_SECRET!);
    return {
      source: 'watsonx', callId: 'x',
      request: { method: 'POST', path: '/audio-webhook', query: '', headers: [['content-type', `multipart/form-data; boundary=${boundary}`], ['authorization', `Bearer ${jwt}`]], body },
    };
  };
  const refused = async (d: Delivery, status: number, text: string) => {
    const res = await handlers.invoke(d);
    expect(res.statusCode, String(res.body)).toBe(status);
    expect(String(JSON.parse(String(res.body)).message)).toContain(text);
  };

  it('an id ending in "." is a 400 (its audio key would contain "..")', async () => {
    const d = { source: 'watsonx' as const, callId: 'x', request: await watsonxRequest({ metadata: meta({ recording_id: 'rec-1.' }), audio: Buffer.alloc(800, 0x7f), variant: 'mulaw' }, secrets.WATSONX_AUDIO_SECRET) };
    await refused(d, 400, 'must not end with "."');
  });

  it('a 12-byte RIFF stub is refused, not stored as a recording', async () => {
    const stub = Buffer.from('RIFF\x04\x00\x00\x00WAVE', 'latin1');
    const d = { source: 'watsonx' as const, callId: 'x', request: await watsonxRequest({ metadata: meta(), audio: stub, variant: 'wav' }, secrets.WATSONX_AUDIO_SECRET) };
    await refused(d, 400, 'cannot be played');
  });

  it('a base64 Content-Transfer-Encoding audio part is refused', async () => {
    const d = await rawMultipart([
      `Content-Disposition: form-data; name="metadata"\r\nContent-Type: application/json\r\n\r\n${meta().toString()}`,
      `Content-Disposition: form-data; name="audio_recording"\r\nContent-Type: audio/mulaw;rate=8000\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.alloc(800, 0x7f).toString('base64')}`,
    ]);
    await refused(d, 400, 'Content-Transfer-Encoding');
  });

  it('part headers beyond 16 lines or 8 KB are refused, at the limits they are accepted', async () => {
    const extra = (n: number) => Array.from({ length: n }, (_, i) => `X-Extra-${i}: v`).join('\r\n');
    const audio = (headers: string) => `Content-Disposition: form-data; name="audio_recording"\r\nContent-Type: audio/mulaw;rate=8000\r\n${headers}\r\n\r\n${'\x7f'.repeat(800)}`;
    const metaPart = `Content-Disposition: form-data; name="metadata"\r\nContent-Type: application/json\r\n\r\n${meta().toString()}`;
    await refused(await rawMultipart([metaPart, audio(extra(15))]), 400, 'more than 16 header lines');
    const atLimit = await handlers.invoke(await rawMultipart([metaPart, audio(extra(14))]));
    expect(atLimit.statusCode, String(atLimit.body)).toBe(200);
    await refused(await rawMultipart([metaPart, audio(`X-Big: ${'a'.repeat(8300)}`)]), 400, 'larger than 8192 bytes');
  });

  it('part headers of exactly 8192 bytes are accepted, 8193 bytes refused with a 400 that says why (the audio part and the metadata part)', async () => {
    // Header bytes: from after the boundary line's CRLF to the blank line, CRLFs between headers included.
    const sized = (fixed: string, bytes: number) => {
      const filler = bytes - Buffer.byteLength(`${fixed}\r\nX-Pad: `);
      return `${fixed}\r\nX-Pad: ${'p'.repeat(filler)}`;
    };
    const audioHead = 'Content-Disposition: form-data; name="audio_recording"\r\nContent-Type: audio/mulaw;rate=8000';
    const metaHead = 'Content-Disposition: form-data; name="metadata"\r\nContent-Type: application/json';
    const audioPart = (head: string) => `${head}\r\n\r\n${'\x7f'.repeat(800)}`;
    const metaPart = (head: string) => `${head}\r\n\r\n${meta().toString()}`;
    expect(Buffer.byteLength(sized(audioHead, 8192))).toBe(8192);

    const atLimit = await handlers.invoke(await rawMultipart([metaPart(metaHead), audioPart(sized(audioHead, 8192))]));
    expect(atLimit.statusCode, String(atLimit.body)).toBe(200);
    expect(JSON.parse(String(atLimit.body))).toMatchObject({ outcome: 'stored' });
    const metaAtLimit = await handlers.invoke(await rawMultipart([metaPart(sized(metaHead, 8192)), audioPart(audioHead)]));
    expect(metaAtLimit.statusCode, String(metaAtLimit.body)).toBe(200);

    const sessionId = randomUUID();
    const metaOf = (head: string) => `${head}\r\n\r\n${meta({ session_id: sessionId }).toString()}`;
    for (const parts of [[metaOf(metaHead), audioPart(sized(audioHead, 8193))], [metaOf(sized(metaHead, 8193)), audioPart(audioHead)]]) {
      const res = await handlers.invoke(await rawMultipart(parts));
      expect(res.statusCode, String(res.body)).toBe(400);
      expect(JSON.parse(String(res.body))).toEqual({ error: 'invalid_multipart', message: "a part's headers are larger than 8192 bytes" });
    }
    // Nothing written for the refused session: no index item, no archive, no audio.
    expect(await getItems('watsonx', sessionId)).toEqual([]);
    expect(await listKeys(`raw/watsonx/2026/11/20/${sessionId}/`)).toEqual([]);
    expect(await listKeys(`audio/watsonx/2026/11/20/${sessionId}/`)).toEqual([]);
  });
});
