import { MaxHeaderSizeExceededError, MaxPartsExceededError, MultipartParseError, parseMultipart as splitMultipart, type MultipartPart } from '@remix-run/multipart-parser';
import { BadRequest, HttpError, UnsupportedMediaType } from '#shared/errors';
import type { ContentType } from '#shared/request';

/**
 * Extracts the two parts of a watsonx audio-webhook body. Parts: exactly one `metadata` and one
 * `audio_recording`; a missing, empty or repeated one is a 400 naming it. Other parts are ignored:
 * IBM may add parts, and ignoring them costs nothing within the limits.
 */

export const METADATA_PART = 'metadata';
export const AUDIO_PART = 'audio_recording';

export const MULTIPART_LIMITS = {
  parts: 8,
  headerPairs: 16,
  headerSize: 8 * 1024,
} as const;
/** A metadata JSON object is a few hundred bytes; anything this large is not one. */
export const MAX_METADATA_BYTES = 64 * 1024;

const METADATA_TYPES = ['application/json', 'text/json', 'text/plain'];

export interface Part {
  bytes: Buffer;
  /** The part's Content-Type header exactly as sent (parameters included), if any. */
  contentType?: string;
  filename?: string;
}

export interface AudioWebhookParts {
  metadata: Part;
  audio: Part;
}

/** 415 unless the request is multipart/form-data; 400 without a boundary. */
export function requireMultipart(contentType: ContentType | undefined): string {
  if (contentType?.type !== 'multipart/form-data') {
    throw new UnsupportedMediaType(`content type must be multipart/form-data with parts "${METADATA_PART}" and "${AUDIO_PART}"`);
  }
  const boundary = contentType.params.boundary;
  if (!boundary) throw new BadRequest('the multipart/form-data content type has no boundary parameter', 'invalid_multipart');
  if (boundary.length > 70) throw new BadRequest('the multipart boundary is longer than 70 characters', 'invalid_multipart');
  return boundary;
}

/** The documented limits (8 KB and 16 lines of headers per part), on the bytes, with a 400. */
function checkPartHeaders(body: Buffer, boundary: string): void {
  const delimiter = Buffer.from(`--${boundary}`);
  const next = Buffer.from(`\r\n--${boundary}`);
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const after = at + delimiter.length;
    if (body[after] === 0x2d && body[after + 1] === 0x2d) return; // closing delimiter
    const lineEnd = body.indexOf('\r\n', after);
    if (lineEnd < 0) return;
    const start = lineEnd + 2;
    const found = body.indexOf('\r\n\r\n', start);
    const end = found < 0 ? body.length : found;
    if (end - start > MULTIPART_LIMITS.headerSize) {
      throw new BadRequest(`a part's headers are larger than ${MULTIPART_LIMITS.headerSize} bytes`, 'invalid_multipart');
    }
    let lines = end > start ? 1 : 0;
    for (let i = body.indexOf('\r\n', start); i >= 0 && i < end; i = body.indexOf('\r\n', i + 2)) lines++;
    if (lines > MULTIPART_LIMITS.headerPairs) {
      throw new BadRequest(`a part has more than ${MULTIPART_LIMITS.headerPairs} header lines`, 'invalid_multipart');
    }
    const n = body.indexOf(next, end);
    at = n < 0 ? -1 : n + 2;
  }
}

/**
 * Splits the body with @remix-run/multipart-parser, whose parts expose their headers as sent:
 * the audio part's `Content-Type` keeps its parameters (`rate=16000`). Every part is read as
 * bytes (no part is decoded as text), so a part without a filename stays byte-exact.
 */
export function parseMultipart(body: Buffer, boundary: string): AudioWebhookParts {
  checkPartHeaders(body, boundary);
  const parts = new Map<string, Part>();
  try {
    for (const part of splitMultipart(body, { boundary, maxParts: MULTIPART_LIMITS.parts, maxHeaderSize: MULTIPART_LIMITS.headerSize, maxFileSize: body.length, maxTotalSize: body.length })) {
      const name = part.name;
      if (name !== METADATA_PART && name !== AUDIO_PART) continue; // other parts are ignored
      const transferEncoding = part.headers['content-transfer-encoding']?.toLowerCase();
      // multipart/form-data carries parts as binary (RFC 7578 deprecates the header):
      // a base64 part would be stored as its text, which no player can play.
      if (transferEncoding !== undefined && transferEncoding !== 'binary' && transferEncoding !== '8bit') {
        throw new BadRequest(`the "${name}" part has Content-Transfer-Encoding: ${transferEncoding.slice(0, 40)}; send the bytes as they are (binary)`, 'invalid_multipart');
      }
      if (parts.has(name)) throw new BadRequest(`the "${name}" part appears more than once`, 'invalid_multipart');
      if (name === METADATA_PART && part.size > MAX_METADATA_BYTES) {
        throw new BadRequest(`the "${METADATA_PART}" part is larger than ${MAX_METADATA_BYTES} bytes`, 'invalid_multipart');
      }
      parts.set(name, toPart(part));
    }
  } catch (err) {
    throw err instanceof HttpError ? err : malformed(err);
  }
  return assemble(parts);
}

function malformed(err: unknown): BadRequest {
  if (err instanceof MaxPartsExceededError) return new BadRequest(`the body has more than ${MULTIPART_LIMITS.parts} parts`, 'invalid_multipart');
  if (err instanceof MaxHeaderSizeExceededError) return new BadRequest(`a part's headers are larger than ${MULTIPART_LIMITS.headerSize} bytes`, 'invalid_multipart');
  // A header block that is not UTF-8 fails to decode (TypeError): malformed, like any other parse error.
  const detail = err instanceof MultipartParseError && /not finished|missing initial boundary/i.test(err.message)
    ? 'the multipart body ends before its closing boundary (truncated, or the boundary does not match)'
    : 'the multipart body is malformed';
  return new BadRequest(detail, 'invalid_multipart');
}

function toPart(part: MultipartPart): Part {
  const chunks = part.content;
  const only = chunks.length === 1 ? chunks[0] : undefined;
  // One chunk is a view of the body (no copy); several are joined once.
  const bytes = only ? Buffer.from(only.buffer, only.byteOffset, only.byteLength) : Buffer.concat(chunks);
  const out: Part = { bytes };
  const contentType = part.headers['content-type'];
  if (contentType !== undefined) out.contentType = contentType;
  const filename = part.filename;
  if (filename !== undefined) out.filename = filename;
  return out;
}

function assemble(parts: Map<string, Part>): AudioWebhookParts {
  const metadata = present(parts.get(METADATA_PART), METADATA_PART);
  const audio = present(parts.get(AUDIO_PART), AUDIO_PART);
  const metaType = metadata.contentType?.split(';')[0]?.trim().toLowerCase();
  if (metaType !== undefined && metaType !== '' && !METADATA_TYPES.includes(metaType) && !metaType.endsWith('+json')) {
    throw new UnsupportedMediaType(`the "${METADATA_PART}" part has content type "${metaType}"; send application/json (or no content type)`);
  }
  return { metadata, audio };
}

function present(part: Part | undefined, name: string): Part {
  if (!part) throw new BadRequest(`the multipart body has no "${name}" part`, 'invalid_multipart');
  if (part.bytes.length === 0) throw new BadRequest(`the "${name}" part is empty`, 'invalid_multipart');
  return part;
}
