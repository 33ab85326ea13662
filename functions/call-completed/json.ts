import { BadRequest } from '#shared/errors';

/**
 * Safe JSON for vendor bodies: strict UTF-8 (a lone surrogate or a stray byte
 * is a 400, never replaced silently), a nesting limit checked before the
 * parser runs (recursive consumers downstream must never see a 10,000-deep
 * array), and a top-level object. Numbers that JavaScript cannot hold exactly
 * are handled later by `plainJson`.
 */

export const MAX_JSON_DEPTH = 32;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export function decodeUtf8(raw: Uint8Array): string {
  try {
    return utf8.decode(raw);
  } catch {
    throw new BadRequest('body is not valid UTF-8', 'invalid_utf8');
  }
}

/** Deepest `{`/`[` nesting outside strings; stops counting once past the limit. */
export function nestingDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) max = depth;
      if (max > limit) return max;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return max;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The body as a JSON object, or a 400 that says what is wrong with it. */
export function parseJsonObject(raw: Uint8Array): Record<string, unknown> {
  const text = decodeUtf8(raw);
  if (text.trim() === '') throw new BadRequest('body is empty: send the call as a JSON object', 'invalid_json');
  if (nestingDepth(text) > MAX_JSON_DEPTH) {
    throw new BadRequest(`JSON is nested deeper than ${MAX_JSON_DEPTH} levels`, 'too_deep');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BadRequest('body is not valid JSON', 'invalid_json');
  }
  if (!isPlainObject(parsed)) throw new BadRequest('body must be a JSON object', 'not_an_object');
  return parsed;
}

/**
 * A JSON value made safe to index: numbers DynamoDB's document client would
 * refuse (beyond Number.MAX_SAFE_INTEGER, or Infinity from `1e400`) become
 * strings, so a vendor's odd number is kept instead of failing the write.
 */
export function plainJson(value: unknown): unknown {
  if (typeof value === 'number') {
    return Number.isFinite(value) && Math.abs(value) <= Number.MAX_SAFE_INTEGER ? value : String(value);
  }
  if (Array.isArray(value)) return value.map(plainJson);
  if (isPlainObject(value)) return plainObject(value);
  return value;
}

/** `plainJson` of an object map. */
export function plainObject(map: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(map)) out[k] = plainJson(v);
  return out;
}

/** A map's values as strings (labels): strings kept, numbers and booleans printed, anything else dropped. */
export function stringValues(map: Record<string, unknown> | undefined | null): Record<string, string> | undefined {
  if (!map) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(map)) {
    if (typeof v === 'string') out[k] = v;
    else if (typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) out[k] = String(v);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
