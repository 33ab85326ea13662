import { randomUUID } from 'node:crypto';
import { BadRequest } from './errors.ts';

/**
 * Safe JSON for sender bodies: strict UTF-8 (a stray byte is a 400, never
 * replaced with U+FFFD — the archive must mean what the index says), a nesting
 * limit checked before the parser runs (recursive consumers downstream never
 * see a 10,000-deep array), and a top-level object. Each caller names what it
 * parses and may choose the error codes its senders already know.
 *
 * Numbers are kept exactly: a number literal that a JavaScript number cannot
 * hold (20261120141205013, 40 significant digits) or that DynamoDB cannot
 * store (1e-200, 1e400) comes out as a string of its exact text, so no stored
 * value is ever a different number than the sender wrote.
 */

export const MAX_JSON_DEPTH = 32;

export interface JsonErrorCodes {
  utf8: string;
  depth: string;
  syntax: string;
  shape: string;
}

const DEFAULT_CODES: JsonErrorCodes = { utf8: 'invalid_utf8', depth: 'too_deep', syntax: 'invalid_json', shape: 'not_an_object' };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export function decodeUtf8(raw: Uint8Array, what = 'body', code = DEFAULT_CODES.utf8): string {
  try {
    return utf8.decode(raw);
  } catch {
    throw new BadRequest(`${what} is not valid UTF-8`, code);
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

/** Sets an own enumerable property, also for keys such as `__proto__` that plain assignment would not create. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** DynamoDB numbers: 38 significant digits, magnitude from 1e-130 to below 1e126 (or zero). */
export const DYNAMODB_NUMBER = { maxDigits: 38, minMagnitude: 1e-130, maxMagnitude: 1e126 } as const;

/** Whether a JavaScript number can be stored as a DynamoDB number without change or refusal. */
export function isStorableNumber(n: number): boolean {
  if (!Number.isFinite(n)) return false;
  if (Number.isInteger(n)) return Number.isSafeInteger(n);
  const abs = Math.abs(n);
  return abs >= DYNAMODB_NUMBER.minMagnitude && abs < DYNAMODB_NUMBER.maxMagnitude;
}

/** A decimal literal as sign, significant digits and exponent: equal values give equal strings. */
function canonicalDecimal(literal: string): string {
  const m = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(literal);
  if (!m) return literal;
  const intPart = m[2] ?? '';
  const frac = m[3] ?? '';
  let digits = intPart + frac;
  let exp = Number(m[4] ?? '0') + intPart.length;
  const lead = digits.length - digits.replace(/^0+/, '').length;
  digits = digits.slice(lead).replace(/0+$/, '');
  exp -= lead;
  if (digits === '') return '0';
  return `${m[1]}${digits}e${exp}`;
}

/** A JSON number literal that parses to a storable number denoting exactly the same value. */
function isExactNumber(literal: string): boolean {
  const n = Number(literal);
  return isStorableNumber(n) && canonicalDecimal(literal) === canonicalDecimal(String(n));
}

const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** [start, end) of every number literal (outside strings) that `isExactNumber` refuses. */
function inexactNumbers(text: string): [number, number][] {
  const out: [number, number][] = [];
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      while (j < text.length && /[0-9eE+.-]/.test(text[j] ?? '')) j++;
      const literal = text.slice(i, j);
      // Only literals of JSON's number grammar: anything else stays for JSON.parse to refuse.
      if (JSON_NUMBER.test(literal) && !isExactNumber(literal)) out.push([i, j]);
      i = j - 1;
    }
  }
  return out;
}

/**
 * JSON.parse, with every inexact number literal replaced by its text. Each such
 * literal is first rewritten as a string carrying a per-parse random marker
 * (a sender cannot forge it), then the marked strings are unwrapped.
 */
function parseExact(text: string): unknown {
  const ranges = inexactNumbers(text);
  if (ranges.length === 0) return JSON.parse(text);
  const marker = `\\u0000${randomUUID()}:`;
  let rewritten = '';
  let at = 0;
  for (const [start, end] of ranges) {
    rewritten += `${text.slice(at, start)}"${marker}${text.slice(start, end)}"`;
    at = end;
  }
  rewritten += text.slice(at);
  const prefix = JSON.parse(`"${marker}"`) as string;
  const unwrap = (value: unknown): unknown => {
    if (typeof value === 'string') return value.startsWith(prefix) ? value.slice(prefix.length) : value;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) value[i] = unwrap(value[i]);
    } else if (isPlainObject(value)) {
      for (const key of Object.keys(value)) setOwn(value, key, unwrap(value[key]));
    }
    return value;
  };
  return unwrap(JSON.parse(rewritten));
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export interface JsonObjectOptions {
  /** How the message names the input, e.g. `body` or `the metadata part`. */
  what?: string;
  maxDepth?: number;
  codes?: Partial<JsonErrorCodes>;
}

/** The bytes as a JSON object, or a 400 that says what is wrong with them. */
export function parseJsonObject(raw: Uint8Array, opts: JsonObjectOptions = {}): Record<string, unknown> {
  const what = opts.what ?? 'body';
  const maxDepth = opts.maxDepth ?? MAX_JSON_DEPTH;
  const codes = { ...DEFAULT_CODES, ...opts.codes };
  const text = decodeUtf8(raw, what, codes.utf8);
  if (text.trim() === '') throw new BadRequest(`${what} is empty: send a JSON object`, codes.syntax);
  if (nestingDepth(text, maxDepth) > maxDepth) {
    throw new BadRequest(`${what} is nested deeper than ${maxDepth} levels`, codes.depth);
  }
  let parsed: unknown;
  try {
    parsed = parseExact(text);
  } catch {
    throw new BadRequest(`${what} is not valid JSON`, codes.syntax);
  }
  if (!isPlainObject(parsed)) throw new BadRequest(`${what} must be a JSON object`, codes.shape);
  return parsed;
}
