import { Busboy, Dicer, type BusboyFileStream } from '@fastify/busboy';
import { BadRequest, UnsupportedMediaType } from '#shared/errors';
import type { ContentType } from '#shared/request';

/**
 * Extracts the two parts of a watsonx audio-webhook body with @fastify/busboy.
 *
 * Every part is read as a *file* (`isPartAFile`), so the audio arrives as raw
 * Buffers whether or not it has a filename: busboy would otherwise decode a
 * part without filename as UTF-8 text and cut it at 1 MiB. Chunks are
 * collected and concatenated once. The promise settles only after busboy's
 * `finish` AND the end of every file stream (resolving earlier truncated audio
 * in an earlier test), or on the first error.
 *
 * Parts: exactly one `metadata` and one `audio_recording`; a missing, empty or
 * repeated one is a 400 naming it. Other parts are ignored (drained, not
 * stored): IBM may add parts, and ignoring them costs nothing within the limits.
 */

export const METADATA_PART = 'metadata';
export const AUDIO_PART = 'audio_recording';

export const MULTIPART_LIMITS = {
  parts: 8,
  files: 8,
  fields: 0,
  headerPairs: 16,
  headerSize: 8 * 1024,
  fieldNameSize: 100,
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

/**
 * busboy cuts part headers beyond its limits silently; the documented limits
 * (8 KB and 16 lines of headers per part) are enforced here, on the bytes, with a 400.
 */
export function checkPartHeaders(body: Buffer, boundary: string): void {
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

interface Collected {
  name: string;
  chunks: Buffer[];
  size: number;
  contentType?: string;
  filename?: string;
}

export function parseMultipart(body: Buffer, contentTypeHeader: string): Promise<AudioWebhookParts> {
  return new Promise<AudioWebhookParts>((resolve, reject) => {
    let settled = false;
    let finished = false;
    let openFiles = 0;
    const parts = new Map<string, Collected>();

    const fail = (err: BadRequest) => {
      if (settled) return;
      settled = true;
      reject(err);
    };
    const maybeDone = () => {
      if (settled || !finished || openFiles > 0) return;
      settled = true;
      try {
        resolve(assemble(parts));
      } catch (err) {
        reject(err);
      }
    };

    let boy: ReturnType<typeof Busboy>;
    try {
      boy = Busboy({
        headers: { 'content-type': contentTypeHeader },
        isPartAFile: () => true,
        limits: MULTIPART_LIMITS,
      });
    } catch {
      fail(new BadRequest('the multipart/form-data content type is invalid (no usable boundary)', 'invalid_multipart'));
      return;
    }

    // busboy reports a part's content type without its parameters (rate=8000);
    // read the raw header of each part just before busboy announces it.
    let pendingHeader: Record<string, string[]> | undefined;
    const dicer: unknown = Reflect.get(Object(Reflect.get(boy, '_parser')), 'parser');
    if (dicer instanceof Dicer) {
      dicer.on('part', (part) => {
        part.prependListener('header', (header: Record<string, string[]>) => { pendingHeader = header; });
      });
    }

    boy.on('file', (name: string, stream: BusboyFileStream, filename: string | undefined, _enc: string, mimeType: string) => {
      const rawType = pendingHeader?.['content-type']?.[0];
      const transferEncoding = pendingHeader?.['content-transfer-encoding']?.[0]?.trim().toLowerCase();
      pendingHeader = undefined;
      // multipart/form-data carries parts as binary (RFC 7578 deprecates the header):
      // a base64 part would be stored as its text, which no player can play.
      if (transferEncoding !== undefined && transferEncoding !== 'binary' && transferEncoding !== '8bit' && (name === METADATA_PART || name === AUDIO_PART)) {
        stream.resume();
        fail(new BadRequest(`the "${name}" part has Content-Transfer-Encoding: ${transferEncoding.slice(0, 40)}; send the bytes as they are (binary)`, 'invalid_multipart'));
        return;
      }
      if (name !== METADATA_PART && name !== AUDIO_PART) {
        stream.on('error', () => {});
        stream.resume();
        return;
      }
      if (parts.has(name)) {
        stream.resume();
        fail(new BadRequest(`the "${name}" part appears more than once`, 'invalid_multipart'));
        return;
      }
      const entry: Collected = { name, chunks: [], size: 0 };
      const contentType = rawType ?? (dicer instanceof Dicer ? undefined : mimeType);
      if (contentType !== undefined) entry.contentType = contentType;
      if (filename !== undefined) entry.filename = filename;
      parts.set(name, entry);
      openFiles += 1;
      stream.on('data', (chunk: Buffer) => {
        entry.size += chunk.length;
        if (name === METADATA_PART && entry.size > MAX_METADATA_BYTES) {
          fail(new BadRequest(`the "${METADATA_PART}" part is larger than ${MAX_METADATA_BYTES} bytes`, 'invalid_multipart'));
          return;
        }
        entry.chunks.push(chunk);
      });
      stream.on('end', () => {
        openFiles -= 1;
        maybeDone();
      });
      stream.on('error', () => fail(new BadRequest(`the "${name}" part ends before its closing boundary (truncated body?)`, 'invalid_multipart')));
    });
    boy.on('partsLimit', () => fail(new BadRequest(`the body has more than ${MULTIPART_LIMITS.parts} parts`, 'invalid_multipart')));
    boy.on('filesLimit', () => fail(new BadRequest(`the body has more than ${MULTIPART_LIMITS.files} parts`, 'invalid_multipart')));
    boy.on('error', (err: unknown) => {
      const detail = err instanceof Error && /unexpected end/i.test(err.message)
        ? 'the multipart body ends before its closing boundary (truncated, or the boundary does not match)'
        : 'the multipart body is malformed';
      fail(new BadRequest(detail, 'invalid_multipart'));
    });
    boy.on('finish', () => {
      finished = true;
      maybeDone();
    });
    boy.end(body);
  });
}

function assemble(parts: Map<string, Collected>): AudioWebhookParts {
  const metadata = finish(parts.get(METADATA_PART), METADATA_PART);
  const audio = finish(parts.get(AUDIO_PART), AUDIO_PART);
  const metaType = metadata.contentType?.split(';')[0]?.trim().toLowerCase();
  if (metaType !== undefined && metaType !== '' && !METADATA_TYPES.includes(metaType) && !metaType.endsWith('+json')) {
    throw new UnsupportedMediaType(`the "${METADATA_PART}" part has content type "${metaType}"; send application/json (or no content type)`);
  }
  return { metadata, audio };
}

function finish(entry: Collected | undefined, name: string): Part {
  if (!entry) throw new BadRequest(`the multipart body has no "${name}" part`, 'invalid_multipart');
  if (entry.size === 0) throw new BadRequest(`the "${name}" part is empty`, 'invalid_multipart');
  const bytes = entry.chunks.length === 1 && entry.chunks[0] ? entry.chunks[0] : Buffer.concat(entry.chunks, entry.size);
  const part: Part = { bytes };
  if (entry.contentType !== undefined) part.contentType = entry.contentType;
  if (entry.filename !== undefined) part.filename = entry.filename;
  return part;
}
