import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { oneLine } from '../text.ts';

/**
 * Reads a file a user named on the command line, bounded: `/dev/zero` must not
 * fill memory, a FIFO must not hang the tool, a directory must not give a
 * confusing error. Only a regular file of at most `maxBytes` is read (sizes
 * reported as 0, like /proc files, are still cut at the bound).
 */

export class InputFileError extends Error {
  override name = 'InputFileError';
}

export function readInputFile(file: string, maxBytes: number): Buffer {
  const shown = oneLine(file);
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : '';
    throw new InputFileError(code === 'ENOENT' ? `${shown}: no such file` : `${shown}: cannot open (${code || 'error'})`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      const kind = stat.isFIFO() ? 'a FIFO' : stat.isCharacterDevice() || stat.isBlockDevice() ? 'a device' : stat.isDirectory() ? 'a directory' : stat.isSocket() ? 'a socket' : 'not a regular file';
      throw new InputFileError(`${shown} is ${kind}: give a regular file`);
    }
    if (stat.size > maxBytes) throw new InputFileError(`${shown} is ${stat.size} bytes; the limit is ${maxBytes}`);
    const buf = Buffer.alloc(maxBytes + 1);
    let size = 0;
    for (;;) {
      const n = readSync(fd, buf, size, buf.length - size, null);
      if (n === 0) break;
      size += n;
      if (size > maxBytes) throw new InputFileError(`${shown} is more than ${maxBytes} bytes, the limit`);
    }
    return buf.subarray(0, size);
  } finally {
    closeSync(fd);
  }
}
