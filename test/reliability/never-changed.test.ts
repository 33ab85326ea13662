import { describe, it, expect, beforeAll } from 'vitest';
import { randomUUID } from 'node:crypto';
import { loadHandlers, outcomeOf, type Handlers } from './support/handlers.ts';
import { sampleEnvironment, freshUii, type Delivery } from '../../scripts/lib/traffic.ts';
import { engageVoiceRequest, volubileRequest } from '../../scripts/lib/requests.ts';
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
