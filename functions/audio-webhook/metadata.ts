import { createHash } from 'node:crypto';
import * as v from 'valibot';
import { BadRequest } from '#shared/errors';
import { parseJsonObject } from '#shared/json';
import { SafeId, datePath } from '#shared/keys';
import { parseIsoInstant, toIso } from '#shared/time';

/**
 * The `metadata` part of a watsonx audio-webhook request. session_id and
 * recording_id become S3 key segments, so they are restricted to a safe
 * charset here, where the request is parsed (storage checks again).
 * Unknown keys are allowed: IBM may add fields.
 */

const optionalText = v.optional(v.pipe(v.string('must be a string'), v.maxLength(256, 'must be at most 256 characters')));

const timestamp = v.optional(v.pipe(
  v.string('must be a string'),
  v.check((s) => parseIsoInstant(s) !== undefined, 'must be an ISO-8601 UTC date-time (a real one, with Z or an offset), e.g. 2026-11-20T10:00:00.000Z'),
  v.transform((s) => toIso(parseIsoInstant(s)) ?? s),
));

export const MetadataSchema = v.looseObject({
  assistant_id: optionalText,
  environment_id: optionalText,
  session_id: SafeId,
  recording_id: SafeId,
  start_timestamp: timestamp,
  stop_timestamp: timestamp,
}, 'must be a JSON object');

export type WatsonxMetadata = v.InferOutput<typeof MetadataSchema>;

/** watsonx metadata is a flat object; anything nested deeper than this is not metadata. */
export const MAX_METADATA_DEPTH = 8;

/** Parses and validates the metadata part's bytes; 400 naming the field on anything wrong. */
export function parseMetadata(bytes: Uint8Array): WatsonxMetadata {
  const json = parseJsonObject(bytes, {
    what: 'the metadata part',
    maxDepth: MAX_METADATA_DEPTH,
    codes: { utf8: 'invalid_metadata', depth: 'invalid_metadata', syntax: 'invalid_metadata', shape: 'invalid_metadata' },
  });
  const result = v.safeParse(MetadataSchema, json, { abortPipeEarly: true });
  if (!result.success) {
    const issue = result.issues[0];
    const path = v.getDotPath(issue);
    const received = issue.input === undefined && path ? 'is missing' : issue.message;
    throw new BadRequest(path ? `metadata.${path} ${received}` : `metadata ${issue.message}`, 'invalid_metadata');
  }
  const meta = result.output;
  if (meta.start_timestamp && meta.stop_timestamp && meta.stop_timestamp < meta.start_timestamp) {
    throw new BadRequest('metadata.stop_timestamp is before metadata.start_timestamp', 'invalid_metadata');
  }
  return meta;
}

/**
 * Names one audio by its content: the first 32 hex digits of the SHA-256 of the
 * declared content type, a newline and the bytes as received: everything the
 * stored WAV and its S3 metadata are made from. Two audios sent under one
 * recording_id are two objects; one key only ever holds one content, so a
 * store that ignores `If-None-Match` (s3rver) rewrites it with the same bytes.
 */
export function audioIdOf(bytes: Uint8Array, declaredContentType: string | undefined): string {
  return createHash('sha256').update(`${declaredContentType ?? ''}\n`).update(bytes).digest('hex').slice(0, 32);
}

/**
 * Where the recording's WAV goes: dated by the recording's start, else by when
 * we received it; `<recording_id>.<audio id>.wav`. Without an audio id: the key
 * of archives written before audio was keyed by content (`<recording_id>.wav`).
 */
export function audioKeyFor(meta: Pick<WatsonxMetadata, 'session_id' | 'recording_id' | 'start_timestamp'>, receivedAt: Date, audioId?: string): string {
  const day = datePath(meta.start_timestamp ?? receivedAt.toISOString());
  return `audio/watsonx/${day}/${meta.session_id}/${meta.recording_id}${audioId === undefined ? '' : `.${audioId}`}.wav`;
}
