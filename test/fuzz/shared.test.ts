import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { decodeEvent, parseContentType, MAX_BODY_BYTES } from '#shared/request';
import { hmacSha256, safeEqual } from '#shared/auth';
import { maskPhone, normalizePhone, toE164 } from '#shared/phone';
import { MAX_JSON_DEPTH, decodeUtf8, nestingDepth, parseJsonObject } from '../../functions/call-completed/json.ts';
import { PROVIDERS } from '../../functions/call-completed/providers/index.ts';
import { toEvent } from '../fixtures/hostile/common.ts';
import { RUNS, anyBytes, anyText, typed } from './support.ts';
import { isSafeId, keySegment } from '#shared/keys';

/** Shared decoding, comparison and normalization under arbitrary input. */

describe('API Gateway event decoding', () => {
  it('arbitrary events decode, or are a typed 4xx (bad base64, too large)', () => {
    const event = fc.record({
      body: fc.option(fc.oneof(anyText, fc.base64String({ maxLength: 400 })), { nil: undefined }),
      isBase64Encoded: fc.boolean(),
      headers: fc.dictionary(anyText, anyText, { maxKeys: 8 }),
      rawQueryString: fc.option(anyText, { nil: undefined }),
      method: fc.option(anyText, { nil: undefined }),
      pathParameters: fc.option(fc.dictionary(anyText, anyText, { maxKeys: 3 }), { nil: undefined }),
    });
    fc.assert(fc.property(event, (e) => {
      const built: APIGatewayProxyEventV2 = {
        ...toEvent({ method: 'POST', target: '/engage-voice' }),
        headers: e.headers,
        isBase64Encoded: e.isBase64Encoded,
        ...(e.body !== undefined ? { body: e.body } : {}),
        ...(e.rawQueryString !== undefined ? { rawQueryString: e.rawQueryString } : {}),
        ...(e.pathParameters !== undefined ? { pathParameters: e.pathParameters } : {}),
      };
      if (e.method !== undefined) built.requestContext.http.method = e.method;
      const out = typed(() => decodeEvent(built));
      if (out.ok) {
        expect(out.value.body.length).toBeLessThanOrEqual(MAX_BODY_BYTES);
        for (const name of Object.keys(out.value.headers)) expect(name).toBe(name.toLowerCase());
      } else {
        expect(out.status).toBe(400);
      }
    }), { numRuns: RUNS.pure });
  });

  it('round-trip: any bytes sent base64-encoded come out byte-exact', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => {
      const req = decodeEvent(toEvent({ target: '/audio-webhook', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from(bytes) }));
      expect(Buffer.compare(req.body, Buffer.from(bytes))).toBe(0);
    }), { numRuns: RUNS.pure });
  });

  it('parseContentType never throws; a parsed type is a lower-case token/token', () => {
    fc.assert(fc.property(anyText, (value) => {
      const ct = parseContentType(value);
      if (ct) expect(ct.type).toMatch(/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/);
    }), { numRuns: RUNS.pure });
  });
});

describe('constant-time comparison', () => {
  it('safeEqual is string equality, for arbitrary strings and for equal-length near misses', () => {
    fc.assert(fc.property(anyText, anyText, (a, b) => {
      expect(safeEqual(a, b)).toBe(Buffer.from(a).equals(Buffer.from(b)));
      expect(safeEqual(a, a)).toBe(true);
    }), { numRuns: RUNS.pure });
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 64 }), fc.nat(), fc.integer({ min: 1, max: 0xff }), (s, at, delta) => {
      const buf = Buffer.from(s, 'latin1');
      const i = at % buf.length;
      const near = Buffer.from(buf);
      near[i] = ((near[i] ?? 0) + delta) & 0xff;
      expect(safeEqual(buf, near)).toBe(false);
    }), { numRuns: RUNS.pure });
  });

  it('hmacSha256 of different data or different secrets differs', () => {
    fc.assert(fc.property(fc.string({ minLength: 1 }), anyText, anyText, (secret, a, b) => {
      fc.pre(a !== b && !Buffer.from(a).equals(Buffer.from(b)));
      expect(safeEqual(hmacSha256(secret, a), hmacSha256(secret, b))).toBe(false);
    }), { numRuns: RUNS.pure });
  });
});

describe('phone numbers', () => {
  it('toE164 / normalizePhone / maskPhone never throw; E.164 out is E.164; a mask shows at most two digits', () => {
    const phone = fc.oneof(anyText, fc.stringMatching(/^\+?[0-9 ().-]{3,20}$/), fc.stringMatching(/^\+?[0-9Xx*]{6,15}$/));
    fc.assert(fc.property(phone, fc.constantFrom('US', 'FR', 'GB', 'DE', 'ZZ', 'XX'), (value, region) => {
      const e164 = toE164(value, region);
      if (e164 !== undefined) expect(e164).toMatch(/^\+[1-9]\d{1,14}$/);
      const normalized = normalizePhone(value, region);
      if (normalized !== undefined) expect(normalized.length).toBeLessThanOrEqual(32);
      const masked = maskPhone(normalized ?? value);
      expect(masked.replace(/\D/g, '').length).toBeLessThanOrEqual(2);
    }), { numRuns: RUNS.pure });
  });
});

describe('call-completed JSON', () => {
  it('parseJsonObject: arbitrary bytes are an object or a 400; nestingDepth agrees with the parser on depth', () => {
    const nested = fc.letrec((tie) => ({ node: fc.oneof({ depthSize: 'small' }, fc.jsonValue({ maxDepth: 1 }), fc.array(tie('node'), { maxLength: 3 }), fc.dictionary(fc.string(), tie('node'), { maxKeys: 3 })) })).node;
    // depth of a parsed value, counted independently of the scanner: a container is one level
    const depthOf = (v: unknown): number => (v !== null && typeof v === 'object' ? 1 + Math.max(0, ...Object.values(v).map(depthOf)) : 0);
    // deep enough on both sides of the limit
    const deep = fc.integer({ min: 1, max: 2 * MAX_JSON_DEPTH }).map((n) => Buffer.from(`{"x":${'['.repeat(n - 1)}1${']'.repeat(n - 1)}}`));
    fc.assert(fc.property(fc.oneof(anyBytes, deep, nested.map((j) => Buffer.from(JSON.stringify({ x: j })))), (bytes) => {
      const out = typed(() => parseJsonObject(bytes));
      if (!out.ok) expect(out.status).toBe(400);
      const text = typed(() => decodeUtf8(bytes));
      if (!text.ok) return;
      let value: unknown;
      try {
        value = JSON.parse(text.value);
      } catch {
        return; // not JSON: the 400 above is all there is to check
      }
      const depth = depthOf(value);
      expect(nestingDepth(text.value, 1000)).toBe(depth);
      if (depth > MAX_JSON_DEPTH) expect(out).toMatchObject({ ok: false, code: 'too_deep' });
      else if (value !== null && typeof value === 'object' && !Array.isArray(value)) expect(out.ok).toBe(true);
    }), { numRuns: RUNS.pure });
  });

  it('providers: arbitrary ids in an otherwise valid body are a 400 or a key-safe call id', () => {
    const ctx = { engageTimeZone: 'UTC', defaultPhoneRegion: 'US', receivedAt: new Date() };
    fc.assert(fc.property(anyText, fc.constantFrom(...PROVIDERS.keys()), (id, name) => {
      const provider = PROVIDERS.get(name);
      if (!provider) return;
      const body = name === 'volubile' ? { id, status: 'COMPLETED' } : { status: 'completed', call: { call_id: id } };
      const out = typed(() => provider.interpret(Buffer.from(JSON.stringify(body)), ctx));
      if (out.ok) {
        expect(isSafeId(out.value.call.callId), out.value.call.callId).toBe(true);
        expect(() => keySegment(out.value.call.callId)).not.toThrow();
        expect(out.value.call.callId).not.toMatch(/[/\\\s]|\.\.|\.$/);
      }
    }), { numRuns: RUNS.pure });
  });
});
