import type * as ChildProcess from 'node:child_process';
import { builtin } from './builtins.js';

/**
 * The tools this process started that still run. Kept on the global object: the command and the
 * files loaded on first use (GPU detection) share one registry, so that the command's Ctrl-C
 * kills what GPU detection started.
 */
const registry = Symbol.for('nlsq-memory.children');
const shared = globalThis as {
  [registry]?: {
    running: Set<ChildProcess.ChildProcess>;
    hooked: boolean;
    /** The signals taken, and the one handler that took them, whichever file loaded first. */
    signals: NodeJS.Signals[];
    onSignal?: (signal: NodeJS.Signals) => void;
  };
};
shared[registry] ??= { running: new Set(), hooked: false, signals: [] };
const state = shared[registry];
state.signals ??= []; // an object made by an older copy of this file
const { running } = state;

/** `taskkill` by its full path: a bare name searches the current folder first on Windows. */
function taskkill(): string {
  const root = process.env.SystemRoot ?? process.env.windir ?? 'C:\\Windows';
  return builtin('node:path').win32.join(root, 'System32', 'taskkill.exe');
}

/**
 * Kills a child and everything it started: its process group on POSIX (the child leads one,
 * spawned `detached`), its tree on Windows. Synchronous on POSIX, so that it works at exit.
 */
export function killTree(child: ChildProcess.ChildProcess): void {
  untrack(child);
  const { pid } = child;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  if (process.platform === 'win32') {
    builtin('node:child_process').execFile(
      taskkill(),
      ['/pid', String(pid), '/T', '/F'],
      { windowsHide: true },
      (error) => {
        if (error !== null) child.kill();
      },
    );
    return;
  }
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

/** Kills every tool still running. The command calls it when interrupted; it runs at exit too. */
export function killAll(): void {
  for (const child of running) killTree(child);
}

/** The signals that end a process while a tool runs, where nothing else handles them. */
const ENDING: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * A signal that would end this process while tools run: they are killed first (they lead process
 * groups of their own, which a terminal's Ctrl-C does not reach, and a death by signal runs no
 * `exit` handler), then this process ends of it, as it would have without this handler. A signal
 * that another handler has taken since is left to it, tools and all: it may go on.
 */
function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return;
  killAll();
  unhookSignals();
  process.kill(process.pid, signal);
}
state.onSignal ??= onSignal;
const handler = state.onSignal;

/** Takes the ending signals nobody handles, while a tool runs (POSIX: Windows ends the tree itself). */
function hookSignals(): void {
  if (process.platform === 'win32' || state.signals.length > 0) return;
  for (const signal of ENDING) {
    if (process.listenerCount(signal) > 0) continue;
    process.on(signal, handler);
    state.signals.push(signal);
  }
}

function unhookSignals(): void {
  for (const signal of state.signals.splice(0)) process.removeListener(signal, handler);
}

/** Forgets `child`; once no tool runs, the signals are left as they were. */
function untrack(child: ChildProcess.ChildProcess): void {
  running.delete(child);
  if (running.size === 0) unhookSignals();
}

/**
 * Starts a tool with `start` and keeps it in the registry until it ends: it is killed if this
 * process exits first, or is ended by a signal nothing else handles. The signals are taken before
 * the tool starts: a signal that arrives while `spawn` returns is then handled after it, with the
 * tool already registered, and never ends this process behind a running tool.
 */
export function track<Child extends ChildProcess.ChildProcess>(start: () => Child): Child {
  if (!state.hooked) {
    state.hooked = true;
    process.once('exit', killAll);
  }
  hookSignals();
  let child: Child;
  try {
    child = start();
  } catch (error) {
    if (running.size === 0) unhookSignals();
    throw error;
  }
  running.add(child);
  child.once('close', () => untrack(child));
  return child;
}
