import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeEvent } from '#shared/request';
import { authenticateEngage, parseBasicAuthorization } from '../../functions/engage-voice/auth.ts';
import { parseFields, parseFormFields, parseJsonFields, rawPayload, toPayload } from '../../functions/engage-voice/parse.ts';
import { interpretEngage } from '../../functions/engage-voice/interpret.ts';
import { toEvent } from '../fixtures/hostile/common.ts';
import { RUNS, anyBytes, anyText, typed } from './support.ts';

/** Engage Voice: auth, JSON/form/query parsing and interpretation under arbitrary input. */

const ctx = { engageTimeZone: 'America/New_York', defaultPhoneRegion: 'US', receivedAt: new Date('2026-11-20T00:00:00Z') };
const fieldName = fc.string({ minLength: 1, maxLength: 30 }).filter((n) => n !== 'token');
const fieldValue = fc.string({ maxLength: 60 });
const engageish = fc.record({
  uii: fc.oneof(fc.stringMatching(/^\d{30}$/), anyText),
  agent_id: fc.oneof(fc.stringMatching(/^[0-9]{1,8}$/), anyText),
  ani: fc.oneof(fc.stringMatching(/^\d{10}$/), anyText),
  dnis: fc.oneof(fc.stringMatching(/^\d{10}$/), fc.constant(''), anyText),
  call_start: fc.oneof(fc.date({ noInvalidDate: true, min: new Date('1971-01-01'), max: new Date('2099-01-01') }).map((d) => d.toISOString().replace('T', ' ').replace('Z', '')), anyText),
  duration: fc.oneof(fc.nat().map(String), fc.string(), fc.constantFrom('00:03:25', '99:99:99', '1e309', '-5', '9'.repeat(30))),
  disposition: anyText,
  recording_url: anyText,
}, { requiredKeys: [] });

describe('Engage Voice parsing', () => {
  it('arbitrary bytes under an arbitrary content type interpret, or are a typed 4xx', () => {
    const ct = fc.oneof(anyText, fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'application/vnd.x+json'));
    const bodies = fc.oneof(anyBytes, engageish.map((o) => Buffer.from(JSON.stringify(o))), engageish.map((o) => Buffer.from(new URLSearchParams(o).toString())));
    fc.assert(fc.property(bodies, ct, (bytes, contentType) => {
      const out = typed(() => interpretEngage(bytes, contentType, ctx));
      if (out.ok) {
        // The uii, or for a body without one the derived id.
        expect(out.value.call.callId).toMatch(/^(?:\d{1,64}|nouii-[0-9a-f]{24})$/);
        expect(out.value.sk).toMatch(/^SEG#[0-9a-f]{16}$/);
        expect(Number.isFinite(out.value.version)).toBe(true);
      }
    }), { numRuns: RUNS.pure });
  });

  it('engage-shaped JSON and form bodies with arbitrary values interpret the same way, or are the same 4xx', () => {
    fc.assert(fc.property(engageish, (o) => {
      const json = typed(() => interpretEngage(Buffer.from(JSON.stringify(o)), 'application/json', ctx));
      const form = typed(() => interpretEngage(Buffer.from(new URLSearchParams(o).toString()), 'application/x-www-form-urlencoded', ctx));
      expect(json.ok).toBe(form.ok);
      if (json.ok && form.ok) expect(form.value).toEqual(json.value);
    }), { numRuns: RUNS.pure });
  });

  it('round-trip: a form body of any fields parses back to the same fields (first value wins, token dropped)', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 30 }), (pairs) => {
      const encoded = new URLSearchParams(pairs).toString();
      const first = new Map<string, string>();
      for (const [k, val] of pairs) if (!first.has(k)) first.set(k, val);
      const expected = Object.fromEntries(first);
      expect({ ...parseFormFields(Buffer.from(encoded)) }).toEqual(expected);
      expect({ ...parseJsonFields(Buffer.from(JSON.stringify(expected))) }).toEqual(expected);
    }), { numRuns: RUNS.pure });
  });

  it('parseFields / toPayload on arbitrary field maps: a payload with a digits-only uii (or none), or a 400', () => {
    fc.assert(fc.property(fc.dictionary(anyText, anyText, { maxKeys: 20 }), (fields) => {
      const out = typed(() => toPayload(parseFields(Buffer.from(JSON.stringify(fields)), 'application/json')));
      if (out.ok) expect(out.value.uii ?? '0').toMatch(/^\d+$/);
      else expect(out.status).toBe(400);
    }), { numRuns: RUNS.pure });
  });

  it('rawPayload of arbitrary GET/POST requests: an archive form, or a typed 4xx; the token never in it', () => {
    fc.assert(fc.property(fc.constantFrom('GET', 'POST'), fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 10 }), fc.option(anyBytes, { nil: undefined }), fc.option(anyText, { nil: undefined }), (method, query, body, contentType) => {
      const q = new URLSearchParams([...query, ['token', 'secret-token-value']]).toString();
      const req = decodeEvent(toEvent({ method, target: `/engage-voice?${q}`, headers: contentType !== undefined ? { 'content-type': contentType } : {}, ...(body ? { body } : {}) }));
      const out = typed(() => rawPayload(req));
      if (out.ok && (method === 'GET' || req.body.length === 0)) expect(Buffer.from(out.value.bytes).toString('utf8')).not.toContain('secret-token-value');
    }), { numRuns: RUNS.pure });
  });
});

describe('Engage Voice authentication', () => {
  it('round-trip: Basic credentials of any user (no colon) and password parse back exactly', () => {
    fc.assert(fc.property(fc.string({ maxLength: 40 }).filter((u) => !u.includes(':')), fc.string({ maxLength: 40 }), (user, password) => {
      const header = `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
      const parsed = parseBasicAuthorization(header);
      // Lone surrogates do not survive UTF-8; everything else must.
      if (Buffer.from(`${user}:${password}`, 'utf8').toString('utf8') === `${user}:${password}`) expect(parsed).toEqual({ user, password });
    }), { numRuns: RUNS.pure });
  });

  it('arbitrary Authorization headers and tokens are a 401 unless both checks pass exactly', () => {
    const secrets = { ENGAGE_VOICE_TOKEN: 'tok-3f9a', ENGAGE_VOICE_BASIC_AUTH: 'ringcx:pw-7e1b' };
    const auth = fc.oneof(anyText, fc.tuple(fc.string(), fc.string()).map(([u, p]) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`),
      fc.constant(`Basic ${Buffer.from('ringcx:pw-7e1b').toString('base64')}`));
    const token = fc.oneof(anyText, fc.constant('tok-3f9a'), fc.constant('tok-3f9b'));
    fc.assert(fc.property(fc.option(auth, { nil: undefined }), fc.option(token, { nil: undefined }), (authorization, tok) => {
      const headers: Record<string, string> = { 'content-type': 'application/json', ...(authorization !== undefined ? { authorization } : {}) };
      const target = tok === undefined ? '/engage-voice' : `/engage-voice?token=${encodeURIComponent(tok)}`;
      const req = decodeEvent(toEvent({ target, headers, body: '{}' }));
      const out = typed(() => authenticateEngage(req, secrets));
      const exact = tok === 'tok-3f9a' && authorization?.trim() === `Basic ${Buffer.from('ringcx:pw-7e1b').toString('base64')}`;
      expect(out.ok).toBe(exact);
      if (!out.ok) expect(out.status).toBe(401);
    }), { numRuns: RUNS.pure });
  });
});
