import { constants } from 'node:fs';
import { lstat, open } from 'node:fs/promises';

/**
 * Files `calls audio` writes. Ids are sender data: a name must not collide with
 * another call's, must say which recording it is, and writing must never
 * clobber a file or follow a symlink someone left in the folder.
 */

/** Name parts keep letters, digits, `.` and `-`; every other byte is `%XX` (so `_` can separate the parts). */
function encodePart(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9.-]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Most file systems stop at 255 bytes per name. */
const MAX_NAME = 255;

/**
 * `<source>_<callId>_<nn>_<recordingId>.<ext>` (`wav`, or a vendor copy's own type), each part percent-encoded: two
 * different recordings never get the same name, and `decodeExportName` gives
 * the ids back. Undefined when the name would be longer than a file system
 * allows (the caller then uses `fallbackExportName`).
 */
export function exportName(source: string, callId: string, index: number, recordingId: string, extension = 'wav'): string | undefined {
  const name = `${[source, callId, String(index + 1).padStart(2, '0'), recordingId].map(encodePart).join('_')}.${extension}`;
  return name.length <= MAX_NAME ? name : undefined;
}

/** The ids an export name was made from. */
export function decodeExportName(name: string): { source: string; callId: string; index: number; recordingId: string } | undefined {
  const m = /^([^_]+)_([^_]+)_(\d+)_([^_]+)\.[a-z0-9]{2,5}$/.exec(name);
  if (!m) return undefined;
  try {
    return { source: decodeURIComponent(m[1] ?? ''), callId: decodeURIComponent(m[2] ?? ''), index: Number(m[3]) - 1, recordingId: decodeURIComponent(m[4] ?? '') };
  } catch {
    return undefined;
  }
}

/** For ids too long for a file name: the readable start, then a digest of the whole name (still unique). */
export function fallbackExportName(source: string, callId: string, index: number, recordingId: string, digest: (text: string) => string, extension = 'wav'): string {
  const full = [source, callId, String(index + 1).padStart(2, '0'), recordingId].join('\u0000');
  return `${encodePart(source)}_${encodePart(callId).slice(0, 80)}_${String(index + 1).padStart(2, '0')}_sha256-${digest(full).slice(0, 32)}.${extension}`;
}

export type WriteOutcome = 'written' | 'exists' | 'symlink' | 'not-a-file';

/**
 * Writes `bytes` to `file`: a new file only (O_EXCL), or with `force` an
 * existing regular file replaced; never through a symlink (O_NOFOLLOW), never
 * into a FIFO or device (O_NONBLOCK, then fstat).
 */
export async function writeExport(file: string, bytes: Uint8Array, force: boolean): Promise<WriteOutcome> {
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = constants;
  const flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | (force ? 0 : O_EXCL);
  let handle;
  try {
    handle = await open(file, flags, 0o644);
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? err.code : undefined;
    if (code === 'EEXIST') return (await lstat(file)).isSymbolicLink() ? 'symlink' : 'exists';
    if (code === 'ELOOP') return 'symlink';
    if (code === 'ENXIO' || code === 'EISDIR') return 'not-a-file';
    throw err;
  }
  try {
    if (!(await handle.stat()).isFile()) return 'not-a-file';
    await handle.truncate(0);
    await handle.writeFile(bytes);
    return 'written';
  } finally {
    await handle.close();
  }
}
