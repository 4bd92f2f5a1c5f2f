// The floor of an import: a minimal ES module that does the work of a detection (./read.cjs),
// written as one module that takes its builtins from Node.js as the library does.
const { openSync, readSync, closeSync } = process.getBuiltinModule('node:fs');

let buffer = Buffer.allocUnsafe(65_536);

/** The text of `file`, or `undefined`. */
function read(file) {
  let fd;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    let length = 0;
    for (;;) {
      const count = readSync(fd, buffer, length, buffer.length - length, null);
      if (count === 0) return buffer.toString('utf8', 0, length);
      length += count;
      if (length === buffer.length) {
        const larger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(larger);
        buffer = larger;
      }
    }
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Reads every file of `work.files`, and asks `os` for what `work.os` names; the bytes read. */
export function floor(work) {
  const os = process.getBuiltinModule('node:os');
  let bytes = 0;
  for (const name of work.os) bytes += os[name]() > 0 ? 0 : 1;
  for (const file of work.files) bytes += read(file)?.length ?? 0;
  return bytes;
}
