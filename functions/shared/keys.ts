import { createHash } from 'node:crypto';
import * as v from 'valibot';
import type { NormalizedCall, Source } from './model.ts';

/**
 * Key and id rules, pure: what may become a segment of an S3 key or a DynamoDB
 * key, and how the archive keys are spelled. Parsers validate ids with
 * `SafeId` (a 400 naming the field); storage checks again with `keySegment`.
 */

const SAFE_ID_CHARS = /^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$/;

/** A segment is followed by `/` or `.<ext>`: `..` anywhere or a trailing `.` would make a path step. */
export function isSafeId(id: string): boolean {
  return SAFE_ID_CHARS.test(id) && !id.includes('..') && !id.endsWith('.');
}

export const SafeId = v.pipe(
  v.string('must be a string'),
  v.regex(SAFE_ID_CHARS, 'must be 1–128 characters of A–Z a–z 0–9 . _ : @ + - starting with a letter or digit'),
  v.check((s) => !s.includes('..'), 'must not contain ".."'),
  v.check((s) => !s.endsWith('.'), 'must not end with "."'),
);

/** The second, independent guard before an id becomes part of a key. */
export function keySegment(id: string): string {
  if (!isSafeId(id)) throw new Error('unsafe key segment');
  return id;
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** `yyyy/mm/dd` of an ISO timestamp (UTC), for archive keys. */
export function datePath(iso: string): string {
  return iso.slice(0, 10).replaceAll('-', '/');
}

/** Day a call belongs to: the UTC day it started, else the day we received it. */
export function callDay(call: Pick<NormalizedCall, 'startedAt'>, receivedAt: Date): string {
  return call.startedAt ?? receivedAt.toISOString();
}

/** `raw/<source>/<yyyy>/<mm>/<dd>/<callId>/<sha256>.<ext>`: the request body exactly as received. */
export function rawKeyFor(source: Source, callId: string, dayIso: string, digest: string, extension: string): string {
  return `raw/${source}/${datePath(dayIso)}/${keySegment(callId)}/${digest}.${extension}`;
}
