import type * as ChildProcess from 'node:child_process';
import { builtin } from './builtins.js';

/**
 * The tools this process started that still run. Kept on the global object: the command and the
 * files loaded on first use (GPU detection) share one registry, so that the command's Ctrl-C
 * kills what GPU detection started.
 */
const registry = Symbol.for('nlsq-memory.children');
const shared = globalThis as {
  [registry]?: { running: Set<ChildProcess.ChildProcess>; hooked: boolean };
};
shared[registry] ??= { running: new Set(), hooked: false };
const state = shared[registry];
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
  running.delete(child);
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

/** Keeps `child` in the registry until it ends: it is killed if this process exits first. */
export function track(child: ChildProcess.ChildProcess): void {
  if (!state.hooked) {
    state.hooked = true;
    process.once('exit', killAll);
  }
  running.add(child);
  child.once('close', () => running.delete(child));
}
