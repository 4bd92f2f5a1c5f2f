#!/usr/bin/env node
// The nlsq-memory command: the process around `main`, its streams, signals and exit code.
import { killAll } from '../core/children.js';
import { supportsColor } from './io.js';
import { isClosedPipe, main, printWarningsAsLines } from './main.js';

const argv = process.argv.slice(2);
// A reader that goes away (`nlsq-memory --json | head -1`) ends the command quietly.
const stop = new AbortController();
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (isClosedPipe(error))
      stop.abort(); // --watch ends at the line it could not write
    else process.exitCode = 1;
  });
}
const stderr = (chunk: string): void => {
  process.stderr.write(chunk);
};
printWarningsAsLines(process, stderr);
// Ctrl-C ends --watch cleanly, with 0; a one-shot run at once, with 128 + the signal's number,
// and every tool it started with it.
const watching = argv.includes('--watch');
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
  stdout: (chunk) => process.stdout.write(chunk),
  stderr,
  env: process.env,
  color: supportsColor(process.stdout.isTTY, process.env),
  interactive: process.stderr.isTTY === true,
}).then((code) => {
  process.exitCode = code;
});
