import * as v from 'valibot';
import { BadRequest, UnsupportedMediaType } from '#shared/errors';
import { parseContentType, type WebhookRequest } from '#shared/request';
import { decodeUtf8, isPlainObject, parseJsonObject, setOwn } from '#shared/json';
import { isSafeId } from '#shared/keys';

/**
 * Engage Voice (RingCX) web-service payloads. The admin writes a template of
 * `#tag#` placeholders (e.g. `uii=#uii#&agent_id=#agent_id#`) that RingCX
 * fills in and sends as a JSON object, a form body, or a query string. So:
 *   - every value is a string (numbers/booleans in a hand-written JSON template are
 *     accepted and turned into strings; objects and arrays are not);
 *   - a tag RingCX could not fill in arrives literally (`#agent_first_name#`): absent;
 *   - names come snake_case (`agent_id`, as the tags are named) or camelCase
 *     (`agentId`): both are accepted, and compared without case, `_` or `-`;
 *   - the `token` parameter is authentication, never payload.
 */

/** More fields than any template has; a body with more is refused, not processed. */
export const MAX_FIELDS = 1000;
const MAX_NAME_LENGTH = 128;
const MAX_VALUE_LENGTH = 8192;

export type Fields = Record<string, string>;

export type PayloadKind = 'json' | 'form';

export interface RawPayload {
  bytes: Uint8Array;
  contentType: string;
  extension: PayloadKind;
  /** S3 user metadata for the archived copy: `redacted` names the credential fields taken out. */
  metadata?: Record<string, string>;
}

function dict(): Fields {
  return Object.create(null) as Fields;
}

/** Canonical field name: `agent_id`, `agentId`, `AGENT-ID` → `agentid`. */
export function canonicalName(name: string): string {
  return name.toLowerCase().replace(/[_\-\s]/g, '');
}

/** A value that is empty or an unsubstituted `#tag#` is absent. */
export function presentValue(value: string): string | undefined {
  const t = value.trim();
  if (t === '' || /^#[^#]*#$/.test(t)) return undefined;
  return t;
}


function addField(out: Fields, count: { n: number }, name: string, value: string): void {
  if (++count.n > MAX_FIELDS) throw new BadRequest(`too many fields: at most ${MAX_FIELDS} are accepted`, 'too_many_fields');
  if (name.length === 0 || name.length > MAX_NAME_LENGTH) {
    throw new BadRequest(`field names must be 1 to ${MAX_NAME_LENGTH} characters`, 'invalid_field');
  }
  if (value.length > MAX_VALUE_LENGTH) {
    throw new BadRequest(`field "${name.slice(0, 40)}" is longer than ${MAX_VALUE_LENGTH} characters`, 'invalid_field');
  }
  if (name === 'token' || Object.hasOwn(out, name)) return; // first value wins, as for query strings
  setOwn(out, name, value);
}

const JsonValue = v.union([v.string(), v.number(), v.boolean(), v.null()]);

/** A JSON object whose values are strings (or scalars a hand-written template left unquoted). */
export function parseJsonFields(bytes: Uint8Array): Fields {
  const parsed = parseJsonObject(bytes, {
    what: 'body',
    codes: { utf8: 'invalid_encoding', syntax: 'invalid_json', shape: 'invalid_json' },
  });
  const out = dict();
  const count = { n: 0 };
  for (const [name, raw] of Object.entries(parsed)) {
    const value = v.safeParse(JsonValue, raw);
    if (!value.success) {
      throw new BadRequest(`field "${name.slice(0, 40)}" must be a string, not an object or array`, 'invalid_field');
    }
    if (value.output === null) continue;
    addField(out, count, name, String(value.output));
  }
  return out;
}

const PERCENT_OK = /^(?:[^%]|%[0-9A-Fa-f]{2})*$/;

function formDecode(s: string): string {
  try {
    return decodeURIComponent(s.replaceAll('+', ' '));
  } catch {
    throw new BadRequest('form body has an invalid percent-encoding', 'invalid_form');
  }
}

/** `application/x-www-form-urlencoded`, strictly: malformed percent-escapes are a 400, not silently kept. */
export function parseFormFields(bytes: Uint8Array): Fields {
  const text = decodeUtf8(bytes, 'form body', 'invalid_encoding');
  if (!PERCENT_OK.test(text)) throw new BadRequest('form body has an invalid percent-encoding', 'invalid_form');
  const out = dict();
  const count = { n: 0 };
  if (text === '') return out;
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = formDecode(eq < 0 ? pair : pair.slice(0, eq));
    const value = formDecode(eq < 0 ? '' : pair.slice(eq + 1));
    addField(out, count, name, value);
  }
  return out;
}

/** Which parser a stored content type calls for; anything else is a 415. */
export function payloadKind(contentType: string | undefined): PayloadKind {
  const ct = parseContentType(contentType);
  if (ct?.type === 'application/json' || ct?.type.endsWith('+json')) return 'json';
  if (ct?.type === 'application/x-www-form-urlencoded') return 'form';
  throw new UnsupportedMediaType(
    `content type ${ct?.type ?? '(none)'} is not accepted: send application/json, application/x-www-form-urlencoded, or the fields as a query string`,
  );
}

export function parseFields(bytes: Uint8Array, contentType: string): Fields {
  return payloadKind(contentType) === 'json' ? parseJsonFields(bytes) : parseFormFields(bytes);
}

export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

/**
 * What we archive for a request: the body exactly as received, credentials excepted:
 *   - POST with a body: the bytes and the content type as sent (415 for other types),
 *     with a `token` field's value redacted (JSON) or its pair left out (form);
 *   - GET, or POST with an empty body: the query string without `token`, as a form body.
 * The archived bytes alone rebuild the index item (see interpretEngage).
 */
export function rawPayload(req: WebhookRequest): RawPayload {
  if (req.method === 'POST' && req.body.length > 0) {
    const contentType = req.headers['content-type'] ?? '';
    const extension = payloadKind(contentType);
    const redacted = extension === 'json' ? redactJsonToken(req.body) : redactFormToken(req.body);
    if (redacted === undefined) return { bytes: req.body, contentType, extension };
    return { bytes: redacted, contentType, extension, metadata: { redacted: 'token' } };
  }
  // The query string exactly as sent, minus the `token` pair(s): repeated
  // parameters and their order survive into the archive.
  const pairs = req.rawQuery.split('&').filter((pair) => pair !== '');
  if (pairs.length > MAX_FIELDS) throw new BadRequest(`too many fields: at most ${MAX_FIELDS} are accepted`, 'too_many_fields');
  const kept = pairs.filter((pair) => !isTokenName(queryName(pair)));
  const text = kept.join('&');
  if (text === '') {
    throw new BadRequest('no fields: send the web service fields (at least uii) as JSON, a form body, or a query string', 'empty_payload');
  }
  return {
    bytes: Buffer.from(text, 'utf8'),
    contentType: FORM_CONTENT_TYPE,
    extension: 'form',
    ...(kept.length < pairs.length ? { metadata: { redacted: 'token' } } : {}),
  };
}

/** `token`, `Token`, `TOKEN`: the URL token RingCX may pass among the fields; a credential, never archived. */
function isTokenName(name: string): boolean {
  return canonicalName(name) === 'token';
}

const REDACTED = '"[redacted]"';
const utf8Exact = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A form body without its token pair(s); every other byte as sent. undefined
 * when there is none to take out (or the body is not UTF-8: it is refused later).
 */
function redactFormToken(bytes: Uint8Array): Buffer | undefined {
  let text: string;
  try {
    text = utf8Exact.decode(bytes);
  } catch {
    return undefined;
  }
  const pairs = text.split('&');
  const kept = pairs.filter((pair) => !isTokenName(queryName(pair)));
  return kept.length === pairs.length ? undefined : Buffer.from(kept.join('&'), 'utf8');
}

/** End (exclusive) of the JSON string literal starting at `start` (a `"`), or -1. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === '"') return i + 1;
  }
  return -1;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && /[ \t\r\n\ufeff]/.test(text[i] ?? '')) i++;
  return i;
}

/** End (exclusive) of the JSON value starting at `i`, or -1. */
function valueEnd(text: string, i: number): number {
  if (text[i] === '"') return stringEnd(text, i);
  if (text[i] === '{' || text[i] === '[') {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const c = text[j];
      if (c === '"') {
        j = stringEnd(text, j) - 1;
        if (j < 0) return -1;
      } else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return -1;
  }
  let j = i;
  while (j < text.length && !/[,}\s]/.test(text[j] ?? '')) j++;
  return j;
}

/**
 * A JSON object body with the value of each top-level token member replaced
 * by "[redacted]"; every other byte as sent. undefined when there is nothing
 * to redact or the body is not a well-formed object (it is refused later).
 */
function redactJsonToken(bytes: Uint8Array): Buffer | undefined {
  let text: string;
  try {
    text = utf8Exact.decode(bytes);
  } catch {
    return undefined;
  }
  let i = skipSpace(text, 0);
  if (text[i] !== '{') return undefined;
  i = skipSpace(text, i + 1);
  const spans: [number, number][] = [];
  while (i < text.length && text[i] !== '}') {
    if (text[i] !== '"') return undefined;
    const keyEnd = stringEnd(text, i);
    if (keyEnd < 0) return undefined;
    let key: unknown;
    try {
      key = JSON.parse(text.slice(i, keyEnd));
    } catch {
      return undefined;
    }
    i = skipSpace(text, keyEnd);
    if (text[i] !== ':') return undefined;
    i = skipSpace(text, i + 1);
    const end = valueEnd(text, i);
    if (end < 0) return undefined;
    if (typeof key === 'string' && isTokenName(key) && text[i] !== '{' && text[i] !== '[') spans.push([i, end]);
    i = skipSpace(text, end);
    if (text[i] === ',') i = skipSpace(text, i + 1);
  }
  if (spans.length === 0) return undefined;
  let out = '';
  let at = 0;
  for (const [start, end] of spans) {
    out += text.slice(at, start) + REDACTED;
    at = end;
  }
  return Buffer.from(out + text.slice(at), 'utf8');
}

function queryName(pair: string): string {
  const eq = pair.indexOf('=');
  const name = eq < 0 ? pair : pair.slice(0, eq);
  try {
    return decodeURIComponent(name.replaceAll('+', ' '));
  } catch {
    return name;
  }
}

// ---------------------------------------------------------------------------
// The fields we understand, by canonical name, and their schema.


/** Canonical name → property of EngagePayload. First alias present wins. */
const ALIASES = {
  uii: ['uii'],
  agentId: ['agentid'],
  agentUsername: ['agentusername'],
  agentFirstName: ['agentfirstname', 'agentfname'],
  agentLastName: ['agentlastname', 'agentlname'],
  agentName: ['agentname', 'agentfullname'],
  ani: ['ani'],
  dnis: ['dnis'],
  callStart: ['callstart', 'callstarttime', 'starttime'],
  duration: ['duration', 'callduration', 'agentduration'],
  recordingUrl: ['recordingurl'],
  agentRecordingUrl: ['sessagentperspectiverecordingurl', 'agentperspectiverecordingurl'],
  disposition: ['disposition', 'agentdisposition', 'calldisposition'],
  callType: ['calltype', 'direction'],
} as const satisfies Record<string, readonly string[]>;

type Known = keyof typeof ALIASES;
const CONSUMED = new Set<string>(Object.values(ALIASES).flat());

const text = (max = 512) => v.optional(v.pipe(v.string(), v.maxLength(max)));

export const EngagePayloadSchema = v.object({
  /** Absent in RingCentral's own JSON example: the call id is then derived (see interpret.ts). */
  uii: v.optional(v.pipe(
    v.string(),
    v.regex(/^\d{1,64}$/, 'uii must be a string of 1 to 64 digits'),
  )),
  agentId: v.optional(v.pipe(v.string(), v.check(isSafeId, 'agent_id contains characters that are not allowed'))),
  agentUsername: text(256),
  agentFirstName: text(256),
  agentLastName: text(256),
  agentName: text(256),
  ani: text(64),
  dnis: text(64),
  callStart: text(64),
  duration: text(32),
  recordingUrl: text(2048),
  agentRecordingUrl: text(2048),
  disposition: text(512),
  callType: text(64),
  /**
   * Everything else the template sent, under the names it used (token never included).
   * Not v.record: it drops keys such as `constructor`, and nothing a sender sent is dropped.
   */
  other: v.custom<Record<string, string>>((o) => isPlainObject(o) && Object.values(o).every((x) => typeof x === 'string')),
});

export type EngagePayload = v.InferOutput<typeof EngagePayloadSchema>;

/** Maps raw fields (any naming) onto EngagePayload and validates it. Throws 400 with the first problem. */
export function toPayload(fields: Fields): EngagePayload {
  const byCanonical = new Map<string, string>();
  const other: Record<string, string> = {};
  for (const [name, raw] of Object.entries(fields)) {
    const value = presentValue(raw);
    if (value === undefined) continue;
    const c = canonicalName(name);
    if (c === 'token') continue;
    if (CONSUMED.has(c)) {
      if (!byCanonical.has(c)) byCanonical.set(c, value);
    } else {
      setOwn(other, name, value);
    }
  }
  const candidate: Record<string, unknown> = { other };
  for (const key of Object.keys(ALIASES) as Known[]) {
    for (const alias of ALIASES[key]) {
      const value = byCanonical.get(alias);
      if (value !== undefined) { candidate[key] = value; break; }
    }
  }
  const result = v.safeParse(EngagePayloadSchema, candidate);
  if (!result.success) {
    const issue = result.issues[0];
    const field = issue.path?.map((p) => String(p.key)).join('.') ?? '';
    throw new BadRequest(field && !issue.message.includes(field) ? `${field}: ${issue.message}` : issue.message, 'invalid_payload');
  }
  return result.output;
}
