import { builtin } from '../core/builtins.js';
import { logger } from '../core/diagnostics.js';

/** How long a writer waits for the lock, and how old a lock is before it counts as left behind, in ms. */
export interface LockTiming {
  waitMs: number;
  staleMs: number;
}

/** 10 s each: a writer holds the lock for the few ms it takes to read and write a small file. */
export const LOCK_TIMING: LockTiming = { waitMs: 10_000, staleMs: 10_000 };

const log = logger('calibration');

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A file's identity: a new file at the same path is another, even with a reused inode number. */
function identity(stat: { ino: bigint; mtimeNs: bigint }): string {
  return `${stat.ino}-${stat.mtimeNs}`;
}

/**
 * Removes `lock` where it is older than `staleMs` (its writer died, or slept). Only one waiter
 * removes a given stale lock: the one that creates the claim named for its identity. Under the
 * claim, the lock is removed only while it is still that file, so that no waiter ever removes a
 * lock taken since. A claim left by a waiter that died holding it is itself stale after
 * `staleMs`. Returns whether the lock may be free now.
 */
async function breakIfStale(lock: string, staleMs: number): Promise<boolean> {
  const fs = builtin('node:fs/promises');
  const seen = (path: string) => fs.stat(path, { bigint: true }).catch(() => undefined);
  const stat = await seen(lock);
  if (stat === undefined) return true;
  if (Date.now() - Number(stat.mtimeMs) <= staleMs) return false;
  const claim = `${lock}.${identity(stat)}.break`;
  try {
    await fs.writeFile(claim, '', { flag: 'wx' });
  } catch {
    const other = await seen(claim);
    if (other !== undefined && Date.now() - Number(other.mtimeMs) > staleMs) {
      await fs.rm(claim, { force: true });
    }
    return false;
  }
  try {
    const now = await seen(lock);
    if (now !== undefined && identity(now) === identity(stat)) {
      log('%s is %d ms old: its writer is gone; removed', lock, Date.now() - Number(stat.mtimeMs));
      await fs.rm(lock, { force: true });
    }
  } finally {
    await fs.rm(claim, { force: true });
  }
  return true;
}

/** Takes `lock`, holding a token of its own in it; `undefined` when not had by `until`. */
async function acquire(lock: string, until: number, staleMs: number): Promise<string | undefined> {
  const fs = builtin('node:fs/promises');
  const token = crypto.randomUUID();
  for (;;) {
    try {
      await fs.writeFile(lock, token, { flag: 'wx' });
      return token;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (await breakIfStale(lock, staleMs)) continue;
    if (Date.now() > until) return undefined;
    await pause(5 + Math.random() * 20);
  }
}

/** Whether `lock` still holds `token`: no waiter took it as stale meanwhile. */
async function holds(lock: string, token: string): Promise<boolean> {
  const text = await builtin('node:fs/promises')
    .readFile(lock, 'utf8')
    .catch(() => undefined);
  return text === token;
}

/**
 * Runs `work` holding `${path}.lock`, so that one writer at a time changes `path`; `undefined`
 * when the lock could not be had within `timing.waitMs`: then nothing was written. `work` asks
 * `holds()` just before it commits; where it answers `false` (the writer slept past `staleMs` and
 * another took the lock as left behind), `work` commits nothing and returns `undefined`, and runs
 * again under a new lock.
 */
export async function withLock<T>(
  path: string,
  work: (holds: () => Promise<boolean>) => Promise<T | undefined>,
  timing: LockTiming = LOCK_TIMING,
): Promise<T | undefined> {
  const fs = builtin('node:fs/promises');
  const lock = `${path}.lock`;
  const until = Date.now() + timing.waitMs;
  for (;;) {
    const token = await acquire(lock, until, timing.staleMs);
    if (token === undefined) {
      log('%s still held after %d ms: nothing written', lock, timing.waitMs);
      return undefined;
    }
    try {
      const done = await work(() => holds(lock, token));
      if (done !== undefined) return done;
      log('%s was taken as left behind while held: writing again', lock);
    } finally {
      if (await holds(lock, token)) await fs.rm(lock, { force: true });
    }
  }
}
