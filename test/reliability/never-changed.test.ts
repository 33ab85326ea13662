import { describe, it, expect, beforeAll } from 'vitest';
import { randomUUID } from 'node:crypto';
import { loadHandlers, outcomeOf, type Handlers } from './support/handlers.ts';
import { sampleEnvironment, freshUii, type Delivery } from '../../scripts/lib/traffic.ts';
import { engageVoiceRequest, synthflowRequest, volubileRequest } from '../../scripts/lib/requests.ts';
import { getItems, getObjectBytes } from '../support/storage.ts';

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
