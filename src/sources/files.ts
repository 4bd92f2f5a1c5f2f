import { builtin } from '../core/builtins.js';

const { openSync, readSync, closeSync } = builtin('node:fs');

/** The one buffer every read goes through; a larger one (a big mount table) is let go after it. */
let buffer: Buffer | undefined;
const BUFFER_BYTES = 16_384;

/** Reads the open file `fd` to its end into the buffer; the number of bytes read. */
function readAll(fd: number): number {
  buffer ??= Buffer.allocUnsafe(BUFFER_BYTES);
  let length = 0;
  for (;;) {
    const read = readSync(fd, buffer, length, buffer.length - length, null);
    if (read === 0) return length;
    length += read;
    if (length === buffer.length) {
      const larger = Buffer.allocUnsafe(buffer.length * 2);
      buffer.copy(larger);
      buffer = larger;
    }
  }
}

/** Error codes that mean the file is not there, as opposed to there but unreadable. */
const ABSENT = new Set(['ENOENT', 'ENOTDIR']);

/**
 * Reads a file as text: `undefined` when it does not exist, `null` when it exists but cannot be
 * read (no permission, a folder, an I/O error), which a limit file must never be taken for. Each
 * refresh and each poll reads a handful of small kernel files: one reused buffer spares an
 * allocation per file, and a file that does not exist (the root cgroup has no `memory.max`)
 * costs no stack trace.
 */
export function readText(file: string): string | undefined | null {
  let fd: number;
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    return ABSENT.has((error as NodeJS.ErrnoException).code ?? '') ? undefined : null;
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
  try {
    const length = readAll(fd);
    const text = (buffer as Buffer).toString('utf8', 0, length);
    if ((buffer as Buffer).length > BUFFER_BYTES) buffer = undefined;
    return text;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
