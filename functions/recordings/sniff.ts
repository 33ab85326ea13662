/**
 * The type of a recording, decided from its first bytes, never from the
 * vendor's Content-Type header (an expired link often answers 200 with an HTML
 * or JSON error page). Anything not recognised as audio is refused.
 */

export interface AudioType {
  contentType: string;
  extension: string;
}

/** How many leading bytes `sniffAudio` needs to decide. */
export const SNIFF_BYTES = 12;

function ascii(bytes: Uint8Array, start: number, text: string): boolean {
  if (bytes.length < start + text.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[start + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** An MPEG audio frame header: 11 sync bits, a valid version, a layer, a bitrate index that is not "bad". */
function isMpegFrame(b: Uint8Array): boolean {
  const [b0, b1, b2] = [b[0] ?? 0, b[1] ?? 0, b[2] ?? 0];
  if (b0 !== 0xff || (b1 & 0xe0) !== 0xe0) return false;
  const version = (b1 >> 3) & 3;
  const layer = (b1 >> 1) & 3;
  const bitrate = b2 >> 4;
  const sampleRate = (b2 >> 2) & 3;
  return version !== 1 && layer !== 0 && bitrate !== 15 && sampleRate !== 3;
}

/** ADTS AAC: sync 0xFFF, layer 00. */
function isAdts(b: Uint8Array): boolean {
  return b[0] === 0xff && ((b[1] ?? 0) & 0xf6) === 0xf0;
}

export function sniffAudio(head: Uint8Array): AudioType | undefined {
  if (ascii(head, 0, 'RIFF') && ascii(head, 8, 'WAVE')) return { contentType: 'audio/wav', extension: 'wav' };
  if (ascii(head, 0, 'ID3')) return { contentType: 'audio/mpeg', extension: 'mp3' };
  if (ascii(head, 0, 'OggS')) return { contentType: 'audio/ogg', extension: 'ogg' };
  if (ascii(head, 0, 'fLaC')) return { contentType: 'audio/flac', extension: 'flac' };
  if (ascii(head, 4, 'ftyp')) return { contentType: 'audio/mp4', extension: 'm4a' };
  if (head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3) return { contentType: 'audio/webm', extension: 'webm' };
  if (isAdts(head)) return { contentType: 'audio/aac', extension: 'aac' };
  if (isMpegFrame(head)) return { contentType: 'audio/mpeg', extension: 'mp3' };
  return undefined;
}

/** What a refused body looked like, for the failure reason (never its content). */
export function describeNonAudio(head: Uint8Array): string {
  const text = Buffer.from(head).toString('latin1').trimStart().toLowerCase();
  if (text.startsWith('<')) return 'html_page';
  if (text.startsWith('{') || text.startsWith('[')) return 'json_page';
  if (head.length === 0) return 'empty_body';
  return 'not_audio';
}
