// The floor of the work: a minimal reader of the files a detection or a poll reads, with open
// and read into one reused buffer, and nothing else. The bench runs it beside the library, and
// imports it as a package, as an ES module (bench/run.mjs writes that from this file).
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
function floor(work) {
  const os = process.getBuiltinModule('node:os');
  let bytes = 0;
  for (const name of work.os) bytes += os[name]() > 0 ? 0 : 1;
  for (const file of work.files) bytes += read(file)?.length ?? 0;
  return bytes;
}

module.exports = { floor };
