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

/** Ends `--watch` where the reader of its output went away; anything else a stream fails at is exit 1. */
function onStreamError(error: Error): void {
  if (isClosedPipe(error))
    stop.abort(); // --watch ends at the line it could not write
  else process.exitCode = 1;
}

/**
 * Writes to `fd` (1 or 2). A one-shot run writes at once, without the stream, whose creation
 * costs 2 ms of its start; a closed stdout throws EPIPE to `main`, which ends quietly; a closed
 * stderr is written to no more. Where the pipe is full (EAGAIN), for `--watch`, and on a Windows
 * console (which takes the text from the stream alone, in UTF-16), the stream writes the rest.
 */
function writer(fd: 1 | 2): (text: string) => void {
  let stream: NodeJS.WriteStream | undefined;
  let closed = false;
  const streamed = (chunk: string | Buffer): void => {
    if (stream === undefined) {
      stream = fd === 1 ? process.stdout : process.stderr;
      stream.on('error', onStreamError);
    }
    stream.write(chunk);
  };
  if (watching || (process.platform === 'win32' && isatty(fd))) return streamed;
  const { writeSync } = builtin('node:fs');
  return (text) => {
    if (closed) return;
    if (stream !== undefined) return streamed(text);
    const bytes = Buffer.from(text);
    let written = 0;
    try {
      while (written < bytes.length) written += writeSync(fd, bytes, written);
    } catch (error) {
      const { code } = error as NodeJS.ErrnoException;
      if (code === 'EAGAIN') streamed(bytes.subarray(written));
      else if (fd === 2 && code === 'EPIPE') closed = true;
      else throw error;
    }
  };
}

const { isatty } = builtin('node:tty');
const stdout = writer(1);
const stderr = writer(2);
printWarningsAsLines(process, stderr);
// debug writes through the stderr stream: a reader that went away must not end the run with 1.
if (process.env.DEBUG !== undefined) process.stderr.on('error', onStreamError);
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
void main(argv, {
  signal: stop.signal,
  stdout,
  stderr,
  env: process.env,
  color: supportsColor(isatty(1), process.env),
  interactive: isatty(2),
}).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // Only where even stderr fails: nothing more can be said.
    process.exitCode = isClosedPipe(error) ? 0 : 1;
  },
);
