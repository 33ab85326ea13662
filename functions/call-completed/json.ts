import { isPlainObject, setOwn } from '#shared/json';

/**
 * Vendor JSON for the call-completed adapters: parsing is the shared strict
 * parser (#shared/json); numbers JavaScript cannot hold exactly are made safe
 * to index by `plainJson`.
 */

export { MAX_JSON_DEPTH, decodeUtf8, nestingDepth, isPlainObject, parseJsonObject, setOwn } from '#shared/json';

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
  for (const [k, v] of Object.entries(map)) setOwn(out, k, plainJson(v));
  return out;
}

/** A map's values as strings (labels): strings kept, numbers and booleans printed, anything else dropped. */
export function stringValues(map: Record<string, unknown> | undefined | null): Record<string, string> | undefined {
  if (!map) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(map)) {
    if (typeof v === 'string') setOwn(out, k, v);
    else if (typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) setOwn(out, k, String(v));
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
