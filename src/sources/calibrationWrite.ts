import { builtin } from '../core/builtins.js';
import { logger } from '../core/diagnostics.js';
import type { CalibrationStore } from '../core/types.js';
import { asideName, emptyStore, forgetStore, parseStore, warnSetAside } from './calibrationFile.js';
import { type LockTiming, withLock } from './calibrationLock.js';

const log = logger('calibration');
/** How often a rename Windows refuses is tried, 20 to 160 ms apart. */
const RENAME_ATTEMPTS = 5;

/** The store in `path`, as `readStoreSync` reads it, without blocking. */
export async function readStore(path: string): Promise<CalibrationStore> {
  const fs = builtin('node:fs/promises');
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch {
    return emptyStore();
  }
  const store = parseStore(text);
  if (store !== undefined) return store;
  const aside = asideName(path);
  const failed = await fs.rename(path, aside).then(
    () => undefined,
    (error: unknown) => {
      log('cannot set %s aside: %s', path, error);
      return error ?? 'failed';
    },
  );
  warnSetAside(path, aside, failed);
  return emptyStore();
}

/** What a write may replace (tests, and the lock's timing). */
export interface WriteIo {
  /** Renames the temporary file over the store. Default: `fs.promises.rename`. */
  rename?: (from: string, to: string) => Promise<void>;
  /** How long to wait for the lock, and when a lock is left behind. Default: 10 s each. */
  timing?: LockTiming;
}

// Kept on the global object, as the warnings are: every copy of this file in a process (the
// library's, a bundle's) queues its writes to a path behind one another's.
const slot = Symbol.for('nlsq-memory.calibrationWrites');
const holder = globalThis as { [slot]?: Map<string, Promise<unknown>> };
holder[slot] ??= new Map<string, Promise<unknown>>();
const queues: Map<string, Promise<unknown>> = holder[slot];

/** Runs `work` after every write to `path` this process started before it. */
function inTurn<T>(path: string, work: () => Promise<T>): Promise<T> {
  const run = (queues.get(path) ?? Promise.resolve()).then(work, work);
  const done = run.then(
    () => undefined,
    () => undefined,
  );
  queues.set(path, done);
  void done.then(() => {
    if (queues.get(path) === done) queues.delete(path);
  });
  return run;
}

/** Renames `from` over `to`, again after a short pause where Windows refuses while another process has `to` open. */
async function renameOver(
  from: string,
  to: string,
  rename: (from: string, to: string) => Promise<void>,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await rename(from, to);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (!['EPERM', 'EACCES', 'EBUSY'].includes(code) || attempt === RENAME_ATTEMPTS) throw error;
      log('renaming over %s: %s; again in %d ms', to, code, 10 * 2 ** attempt);
      await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** attempt));
    }
  }
}

/**
 * Changes the store in `path`: in turn with this process's other writes to it, under its lock,
 * read again (so that a concurrent writer's observations are kept), changed, written to a
 * temporary file of its own and renamed over it, so that a crash never leaves a half-written
 * file, nor a failure the temporary file. `undefined` when the lock stayed held past its wait:
 * then nothing is written, never without the lock.
 */
export async function updateStore(
  path: string,
  change: (store: CalibrationStore) => CalibrationStore,
  io: WriteIo = {},
): Promise<CalibrationStore | undefined> {
  const fs = builtin('node:fs/promises');
  const { dirname, resolve } = builtin('node:path');
  await fs.mkdir(dirname(path), { recursive: true });
  const write = async (holds: () => Promise<boolean>): Promise<CalibrationStore | undefined> => {
    const store = change(await readStore(path));
    const temporary = `${path}.${crypto.randomUUID()}.tmp`;
    try {
      await fs.writeFile(temporary, `${JSON.stringify(store)}\n`);
      if (!(await holds())) return undefined;
      await renameOver(temporary, path, io.rename ?? fs.rename);
      forgetStore(path);
      return store;
    } finally {
      await fs.rm(temporary, { force: true });
    }
  };
  return inTurn(resolve(path), () => withLock(path, write, io.timing));
}
