import type * as ChildProcess from 'node:child_process';
import type { Readable } from 'node:stream';
import { builtin } from '../../core/builtins.js';
import { killTree, track } from '../../core/children.js';
import { now } from '../../core/clock.js';
import { TIMED_OUT, within } from '../../core/deadline.js';
import type { Env } from '../slurm.js';
import { lookLocally, mountTypes } from './localLookup.js';

/** How a run of a tool ended: its output, or why there is none. */
export type ToolResult =
  | { status: 'ok'; stdout: string }
  | { status: 'failed' | 'cancelled'; detail: string };

const MAX_OUTPUT_CHARS = 1024 ** 2;

/** Reads a variable of `env`; on Windows, whatever the case of its name (`Path`). */
export function envValue(env: Env, name: string): string | undefined {
  const value = env[name];
  if (value !== undefined || process.platform !== 'win32') return value;
  const key = Object.keys(env).find((candidate) => candidate.toUpperCase() === name);
  return key === undefined ? undefined : env[key];
}

/** Prints the first of its arguments that is an executable file; exit status 1 when none is. */
const LOOKUP_SCRIPT =
  'for f do [ -f "$f" ] && [ -x "$f" ] && { printf %s "$f"; exit 0; }; done; exit 1';

/**
 * Finds an executable on `env`'s PATH, as a shell would, without running it; gives up once
 * `signal` aborts. Relative and empty PATH entries are skipped (they would search the working
 * directory); on Windows only `.exe` and `.com` files count, since `.cmd` and `.bat` need a
 * shell. A PATH entry on a hung network mount blocks whatever looks there: on POSIX, entries on
 * a local file system (as `/proc/self/mountinfo`, or `mountinfo`, says) are looked at here,
 * synchronously; from the first that is not on, by `/bin/sh`, a child killed at the deadline,
 * never by this process's threads, which a hung call would keep from ever finishing (nor letting
 * the process exit). `platform` is the one whose rules apply (a test asks for Windows' anywhere).
 */
export async function findExecutable(
  name: string,
  env: Env,
  signal: AbortSignal,
  platform: string = process.platform,
  mountinfo?: string,
): Promise<string | undefined> {
  const path = envValue(env, 'PATH');
  if (path === undefined || path === '') return undefined;
  const { delimiter, isAbsolute, join } = builtin('node:path');
  const extensions = platform === 'win32' ? ['.exe', '.com'] : [''];
  // On POSIX the folder as given, as a shell joins it: `link/..` is the link target's parent.
  const joined = (directory: string, file: string): string =>
    platform === 'win32' ? join(directory, file) : `${directory.replace(/\/+$/, '')}/${file}`;
  const files = path
    .split(delimiter)
    .filter((directory) => isAbsolute(directory))
    .flatMap((directory) =>
      extensions.map((extension) => joined(directory, `${name}${extension}`)),
    );
  if (files.length === 0) return undefined;
  if (platform === 'win32') {
    const found = await firstInOrder(files, (file) => isExecutableFile(file, signal));
    return signal.aborted ? undefined : found;
  }
  // Local file systems are looked at here, at once; from the first entry that is not local on
  // (a network mount, or where the mounts are not known), a child looks.
  const types = mountTypes(mountinfo ?? ownMounts());
  for (const [index, file] of files.entries()) {
    const verdict = lookLocally(file, types);
    if (verdict === 'executable') return file;
    if (verdict === 'absent') continue;
    const rest = files.slice(index);
    const result = await runTool('/bin/sh', ['-c', LOOKUP_SCRIPT, 'sh', ...rest], env, signal);
    return result.status === 'ok' && result.stdout !== '' ? result.stdout : undefined;
  }
  return undefined;
}

/**
 * The first of `files` that `usable` says yes to. All are asked together, so that the answer
 * takes one wait, not one each; it comes as soon as every file before the one found has answered
 * no: a hung network mount further down PATH does not hold it up.
 */
export function firstInOrder(
  files: readonly string[],
  usable: (file: string) => Promise<boolean>,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    const answers: (boolean | undefined)[] = files.map(() => undefined);
    const settle = (): void => {
      const first = answers.findIndex((answer) => answer !== false);
      if (first < 0) resolve(undefined);
      else if (answers[first] === true) resolve(files[first]);
    };
    files.forEach((file, index) => {
      void usable(file).then((answer) => {
        answers[index] = answer;
        settle();
      });
    });
    settle();
  });
}

/**
 * Whether `file` is a file this process may execute (on Windows, where there is no `/bin/sh` to
 * ask). Through `node:fs`'s callbacks, since `node:fs/promises` costs a millisecond to load.
 */
function isExecutableFile(file: string, signal: AbortSignal): Promise<boolean> {
  const fs = builtin('node:fs');
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    fs.access(file, fs.constants.X_OK, (error) => {
      if (error !== null) resolve(false);
      else fs.stat(file, (failed, stats) => resolve(failed === null && stats.isFile()));
    });
  });
}

/** This process's mount table, or `undefined` where there is none to read (not Linux). */
function ownMounts(): string | undefined {
  try {
    return builtin('node:fs').readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return undefined;
  }
}

function firstLine(text: string): string {
  return text.trim().split(/\r?\n/, 1)[0] ?? '';
}

/**
 * Runs `file` with `args` and collects its output. When `signal` aborts (the time budget ran
 * out, or the answer is not needed any more), the tool and every process it started are killed
 * and the promise resolves at once. Every run is registered: it is killed if this process exits
 * first. Never rejects.
 */
export function runTool(
  file: string,
  args: readonly string[],
  env: Env,
  signal: AbortSignal,
): Promise<ToolResult> {
  if (signal.aborted) return Promise.resolve({ status: 'cancelled', detail: 'not run' });
  const { spawn } = builtin('node:child_process');
  return new Promise((resolve) => {
    let child: ChildProcess.ChildProcessByStdio<null, Readable, Readable>;
    try {
      child = track(() =>
        spawn(file, args, {
          env,
          detached: process.platform !== 'win32',
          stdio: ['ignore', 'pipe', 'pipe'],
          windowsHide: true,
        }),
      );
    } catch (error) {
      resolve({ status: 'failed', detail: String(error) });
      return;
    }
    let stdout = '';
    let stderr = '';
    let settled = false;
    const finish = (result: ToolResult): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', cancel);
      resolve(result);
    };
    const stop = (detail: string): void => {
      if (settled) return;
      killTree(child);
      // Nothing of a killed tool may keep this process alive: not its pipes, not its handle.
      child.stdout.destroy();
      child.stderr.destroy();
      child.unref();
      finish({ status: signal.aborted ? 'cancelled' : 'failed', detail });
    };
    const cancel = (): void => stop('stopped: over the time budget, or not needed any more');
    signal.addEventListener('abort', cancel, { once: true });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.length > MAX_OUTPUT_CHARS) stop('too much output');
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < 4096) stderr += chunk;
    });
    child.on('error', (error) => finish({ status: 'failed', detail: error.message }));
    child.on('close', (code, signalName) => {
      if (code === 0) finish({ status: 'ok', stdout });
      else
        finish({
          status: 'failed',
          detail:
            code === null
              ? `killed by ${signalName}`
              : `exit ${code}: ${firstLine(stderr || stdout)}`,
        });
    });
  });
}

/**
 * Runs `file` with `args` until `deadline` (a time of `now()`, core/clock.ts) or until `cancel` aborts:
 * its result, or {@link TIMED_OUT} once it was killed for either. Never rejects.
 */
export async function runUntil(
  file: string,
  args: readonly string[],
  env: Env,
  deadline: number,
  cancel?: AbortSignal,
): Promise<ToolResult | typeof TIMED_OUT> {
  const step = (signal: AbortSignal) => runTool(file, args, env, signal);
  const result = await within(step, deadline - now(), cancel);
  // The kill may settle the run before the deadline's own answer: it is the same end.
  return result === TIMED_OUT || result.status === 'cancelled' ? TIMED_OUT : result;
}
