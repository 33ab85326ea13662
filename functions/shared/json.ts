import { BadRequest } from './errors.ts';

/**
 * Safe JSON for sender bodies: strict UTF-8 (a stray byte is a 400, never
 * replaced with U+FFFD — the archive must mean what the index says), a nesting
 * limit checked before the parser runs (recursive consumers downstream never
 * see a 10,000-deep array), and a top-level object. Each caller names what it
 * parses and may choose the error codes its senders already know.
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
    parsed = JSON.parse(text);
  } catch {
    throw new BadRequest(`${what} is not valid JSON`, codes.syntax);
  }
  if (!isPlainObject(parsed)) throw new BadRequest(`${what} must be a JSON object`, codes.shape);
  return parsed;
}
