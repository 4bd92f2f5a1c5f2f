#!/usr/bin/env node
// The nlsq-memory command: the process around `main`, its streams, signals and exit code.
import { builtin } from '../core/builtins.js';
import { killAll } from '../core/children.js';
import { supportsColor } from './io.js';
import { isClosedPipe, main, printWarningsAsLines } from './main.js';

const argv = process.argv.slice(2);
const watching = argv.includes('--watch');
// A reader that goes away (`nlsq-memory --json | head -1`) ends the command quietly.
const stop = new AbortController();

/**
 * Writes to `fd` (1 or 2). A one-shot run writes at once, without the stream, whose creation
 * costs 2 ms of its start; a closed pipe throws EPIPE to `main`, which ends quietly. Where the
 * pipe is full (EAGAIN), and for `--watch`, the stream writes, and its errors end the watch.
 */
function writer(fd: 1 | 2): (text: string) => void {
  let stream: NodeJS.WriteStream | undefined;
  const streamed = (text: string): void => {
    if (stream === undefined) {
      stream = fd === 1 ? process.stdout : process.stderr;
      stream.on('error', (error) => {
        if (isClosedPipe(error))
          stop.abort(); // --watch ends at the line it could not write
        else process.exitCode = 1;
      });
    }
    stream.write(text);
  };
  if (watching) return streamed;
  const { writeSync } = builtin('node:fs');
  return (text) => {
    if (stream !== undefined) return streamed(text);
    const bytes = Buffer.from(text);
    let written = 0;
    try {
      while (written < bytes.length) written += writeSync(fd, bytes, written);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      streamed(bytes.subarray(written).toString());
    }
  };
}

const stdout = writer(1);
const stderr = writer(2);
printWarningsAsLines(process, stderr);
// Ctrl-C ends --watch cleanly, with 0; a one-shot run at once, with 128 + the signal's number,
// and every tool it started with it.
for (const [signal, number] of [
  ['SIGINT', 2],
  ['SIGTERM', 15],
] as const) {
  process.once(signal, () => {
    killAll();
    if (watching) stop.abort();
    else process.exit(128 + number);
  });
}
const { isatty } = builtin('node:tty');
void main(argv, {
  signal: stop.signal,
  stdout,
  stderr,
  env: process.env,
  color: supportsColor(isatty(1), process.env),
  interactive: isatty(2),
}).then((code) => {
  process.exitCode = code;
});
