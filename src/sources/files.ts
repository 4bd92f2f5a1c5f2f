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

/**
 * Reads a file as text, or `undefined` when it cannot be read. Each refresh and each poll reads
 * a handful of small kernel files: one reused buffer spares an allocation per file, and a file
 * that does not exist (the root cgroup has no `memory.max`) costs no stack trace.
 */
export function readText(file: string): string | undefined {
  let fd: number;
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
  try {
    const length = readAll(fd);
    const text = (buffer as Buffer).toString('utf8', 0, length);
    if ((buffer as Buffer).length > BUFFER_BYTES) buffer = undefined;
    return text;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
