import type { ArchivedField, CallRecord } from './model.ts';
import { isPlainObject, isStorableNumber } from './json.ts';

/**
 * Makes a call record storable as the `record` attribute of one DynamoDB index
 * item, whatever the sender put in it. DynamoDB (and the document client that
 * marshals for it) refuses an item over 400 KB, nesting deeper than 32 levels,
 * numbers outside its range, and keys such as `constructor` (the document
 * client then takes the map for a class instance) or `__proto__` (it would
 * become a prototype instead of a key). A refusal would answer every retry
 * of an authenticated delivery with an error, forever.
 *
 * So every top-level field of the record is converted to what the document
 * client marshals losslessly (maps as `Map`, so any key survives; a number
 * DynamoDB cannot hold as its exact text), and measured as DynamoDB measures
 * an item. A field that cannot be held (too deep, a `__proto__` key, text that
 * is not valid Unicode) or that makes the item too large is left out of the
 * index and named in `archivedOnly`: the raw archive at `rawS3Key` holds it, so
 * the call still lists, shows and reindexes. Pure: no SDK, no clock.
 */

/** DynamoDB's item limit is 400 KB (409,600 bytes); the budget leaves room for the item's keys and rounding. */
export const ITEM_BUDGET_BYTES = 380_000;
/** DynamoDB nests a document at most 32 levels deep; the `record` map itself is level 1. */
export const MAX_ITEM_NESTING = 32;

/** What the document client marshals without loss. */
export type IndexValue = string | number | boolean | null | IndexValue[] | Map<string, IndexValue>;

/** Fields that place and describe the call: kept while anything else can be left out. */
const CORE_FIELDS = new Set<string>([
  'source', 'callId', 'status', 'direction', 'customerNumber', 'dialedNumber',
  'startedAt', 'endedAt', 'durationSec', 'recordings', 'rawS3Key', 'receivedAt',
]);

export const REASONS = {
  size: 'too large for one index item',
  depth: `nested deeper than DynamoDB's ${MAX_ITEM_NESTING} levels`,
  key: 'has a key the index cannot hold (__proto__)',
  text: 'has text that is not valid Unicode',
  refused: 'refused by DynamoDB',
} as const;

class Unfit extends Error {
  constructor(readonly reason: string) { super(reason); }
}

interface Converted {
  value: IndexValue | undefined;
  /** Bytes as DynamoDB counts them. */
  size: number;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function isWellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** DynamoDB counts a number as about one byte per two significant digits, plus one. */
function numberBytes(n: number): number {
  return Math.ceil(String(n).replace(/[^0-9]/g, '').length / 2) + 1;
}

/** `level`: the nesting level a container at this position would have. */
function convert(value: unknown, level: number): Converted {
  if (value === undefined) return { value: undefined, size: 0 };
  if (value === null) return { value: null, size: 1 };
  if (typeof value === 'boolean') return { value, size: 1 };
  if (typeof value === 'string') {
    if (!isWellFormed(value)) throw new Unfit(REASONS.text);
    return { value, size: utf8Bytes(value) };
  }
  if (typeof value === 'number') {
    if (isStorableNumber(value)) return { value, size: numberBytes(value) };
    const text = String(value);
    return { value: text, size: utf8Bytes(text) };
  }
  if (Array.isArray(value)) {
    if (level > MAX_ITEM_NESTING) throw new Unfit(REASONS.depth);
    const list: IndexValue[] = [];
    let size = 3;
    for (const item of value) {
      const c = convert(item, level + 1);
      if (c.value === undefined) continue;
      list.push(c.value);
      size += c.size + 1;
    }
    return { value: list, size };
  }
  if (isPlainObject(value)) {
    if (level > MAX_ITEM_NESTING) throw new Unfit(REASONS.depth);
    const map = new Map<string, IndexValue>();
    let size = 3;
    for (const key of Object.keys(value)) {
      if (key === '__proto__') throw new Unfit(REASONS.key);
      if (!isWellFormed(key)) throw new Unfit(REASONS.text);
      const c = convert(value[key], level + 1);
      if (c.value === undefined) continue;
      map.set(key, c.value);
      size += utf8Bytes(key) + c.size + 1;
    }
    return { value: map, size };
  }
  // Not JSON data (a Date, a Buffer…): nothing a parser produces; treat as unstorable, never throw.
  throw new Unfit(REASONS.refused);
}

export interface FittedRecord {
  record: Map<string, IndexValue>;
  /** The record's size as DynamoDB counts it. */
  bytes: number;
  archivedOnly: ArchivedField[];
}

export interface FitOptions {
  /** Bytes the rest of the item (keys, version, digest) takes. */
  overheadBytes?: number;
  /** Keep only the core fields (after DynamoDB refused the fitted item anyway). */
  coreOnly?: boolean;
}

export function fitRecord(record: CallRecord, opts: FitOptions = {}): FittedRecord {
  const budget = ITEM_BUDGET_BYTES - (opts.overheadBytes ?? 0);
  const fields = new Map<string, Converted>();
  const archivedOnly: ArchivedField[] = [];
  for (const [field, value] of Object.entries(record)) {
    if (field === 'archivedOnly') continue;
    if (opts.coreOnly && !CORE_FIELDS.has(field)) {
      if (value !== undefined) archivedOnly.push({ field, reason: REASONS.refused });
      continue;
    }
    try {
      const c = convert(value, 2);
      if (c.value !== undefined) fields.set(field, c);
    } catch (err) {
      if (!(err instanceof Unfit)) throw err;
      archivedOnly.push({ field, reason: err.reason });
    }
  }
  const total = () => [...fields].reduce((n, [k, c]) => n + utf8Bytes(k) + c.size + 1, 3) + 600;
  let bytes = total();
  // Largest first, the fields that describe the call last.
  while (bytes > budget) {
    const candidates = [...fields].filter(([k]) => !CORE_FIELDS.has(k));
    const pool = candidates.length > 0 ? candidates : [...fields].filter(([k]) => k !== 'source' && k !== 'callId' && k !== 'rawS3Key' && k !== 'receivedAt');
    const largest = pool.sort((a, b) => b[1].size - a[1].size)[0];
    if (!largest) break;
    fields.delete(largest[0]);
    archivedOnly.push({ field: largest[0], reason: REASONS.size });
    bytes = total();
  }
  const out = new Map<string, IndexValue>();
  for (const [k, c] of fields) if (c.value !== undefined) out.set(k, c.value);
  if (archivedOnly.length > 0) {
    out.set('archivedOnly', archivedOnly.map((a) => new Map<string, IndexValue>([['field', a.field], ['reason', a.reason]])));
  }
  return { record: out, bytes, archivedOnly };
}
