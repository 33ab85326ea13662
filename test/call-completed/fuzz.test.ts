import { describe, it, expect } from 'vitest';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { HttpError } from '#shared/errors';
import { PROVIDERS } from '../../functions/call-completed/providers/index.ts';
import { ctx, request } from './support.ts';

/** Whatever a sender sends, an adapter either interprets it or throws a typed 4xx — never anything else. */
function outcome(fn: () => unknown): number {
  try {
    fn();
    return 200;
  } catch (err) {
    if (err instanceof HttpError) return err.statusCode;
    throw err;
  }
}

const SECRETS = { VOLUBILE_WEBHOOK_SECRET: 's', SYNTHFLOW_WEBHOOK_SECRET: 's', SYNTHFLOW_WEBHOOK_TOKEN: 't', VAPI_WEBHOOK_SECRET: 's', VAPI_WEBHOOK_TOKEN: 't' };

/** The headers a genuine sender would put on this body, computed independently of the adapters; undefined when it cannot be signed. */
function rightCredentials(name: string, raw: Buffer): Record<string, string> | undefined {
  if (name === 'volubile') return { 'x-webhook-signature': createHmac('sha256', 's').update(raw).digest('hex') };
  // Vapi: an HMAC credential over the raw body plus the token as X-Vapi-Secret; any bytes can be signed.
  if (name === 'vapi') return { 'x-vapi-signature': createHmac('sha256', 's').update(raw).digest('hex'), 'x-vapi-secret': 't' };
  let callId: unknown;
  try {
    callId = (JSON.parse(raw.toString('utf8')) as { call?: { call_id?: unknown } } | null)?.call?.call_id;
  } catch {
    return undefined;
  }
  if (typeof callId !== 'string' || callId === '') return undefined;
  return { 'x-webhook-token': 't', 'synthflow-signature': createHmac('sha256', 's').update(callId).digest('base64') };
}

const payload = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  fc.jsonValue({ maxDepth: 6 }).map((j) => Buffer.from(JSON.stringify(j))),
  fc.record({
    id: fc.oneof(fc.string(), fc.uuid(), fc.integer()),
    status: fc.oneof(fc.string(), fc.constantFrom('COMPLETED', 'IN_PROGRESS', 'completed')),
    startTime: fc.oneof(fc.string(), fc.date({ noInvalidDate: true }).map((d) => d.toISOString())),
    call: fc.record({ call_id: fc.oneof(fc.string(), fc.uuid()), start_time: fc.oneof(fc.string(), fc.integer()), transcript: fc.string(), duration: fc.anything() }, { requiredKeys: [] }),
    extractorData: fc.anything(),
    executed_actions: fc.dictionary(fc.string(), fc.anything()),
  }, { requiredKeys: [] }).map((o) => Buffer.from(JSON.stringify(o))),
);

describe('adapters under arbitrary input', () => {
  for (const [name, provider] of PROVIDERS) {
    it(`${name}: interpret yields an interpretation or a 400`, () => {
      fc.assert(fc.property(payload, (raw) => {
        const status = outcome(() => provider.interpret(raw, ctx));
        expect([200, 400]).toContain(status);
      }), { numRuns: 400 });
    });

    it(`${name}: authenticate refuses arbitrary credentials with a 400 or 401, never anything else`, () => {
      fc.assert(fc.property(payload, fc.dictionary(fc.constantFrom('x-webhook-signature', 'synthflow-signature', 'x-webhook-token', 'x-vapi-signature', 'x-vapi-timestamp', 'x-vapi-secret', 'authorization'), fc.string()), (raw, headers) => {
        const status = outcome(() => provider.authenticate(request({ provider: name, body: raw, headers }), SECRETS));
        expect([400, 401]).toContain(status);
      }), { numRuns: 300 });
    });

    it(`${name}: authenticate accepts any body that carries the right credentials`, () => {
      fc.assert(fc.property(payload, (raw) => {
        const signed = rightCredentials(name, raw);
        // Synthflow signs call.call_id: a body without one cannot be signed, and is a 400 (token present, signature unusable)
        const headers = signed ?? { 'x-webhook-token': 't', 'synthflow-signature': 'unsignable' };
        const status = outcome(() => provider.authenticate(request({ provider: name, body: raw, headers }), SECRETS));
        expect(status).toBe(signed ? 200 : 400);
      }), { numRuns: 300 });
    });
  }
});
