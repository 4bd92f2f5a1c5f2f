import { builtin } from '../core/builtins.js';
import { logger } from '../core/diagnostics.js';
import type { CalibrationStore } from '../core/types.js';
import { asideName, emptyStore, parseStore, warnSetAside } from './calibrationFile.js';

const log = logger('calibration');
const LOCK_STALE_MS = 10_000;
const LOCK_WAIT_MS = 10_000;

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
  await fs
    .rename(path, aside)
    .catch((error: unknown) => log('cannot set %s aside: %s', path, error));
  warnSetAside(path, aside);
  return emptyStore();
}

/** Holds `${path}.lock` while `work` runs: one writer at a time; a lock older than 10 s is stale. */
async function locked<T>(path: string, work: () => Promise<T>): Promise<T> {
  const fs = builtin('node:fs/promises');
  const lock = `${path}.lock`;
  const until = Date.now() + LOCK_WAIT_MS;
  let held = false;
  while (!held) {
    try {
      await (await fs.open(lock, 'wx')).close();
      held = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || Date.now() > until) {
        log('writing %s without its lock: %s', path, error);
        break;
      }
      const age = await fs.stat(lock).then(
        (stat) => Date.now() - stat.mtimeMs,
        () => 0,
      );
      if (age > LOCK_STALE_MS) await fs.rm(lock, { force: true });
      else await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20));
    }
  }
  try {
    return await work();
  } finally {
    if (held) await fs.rm(lock, { force: true });
  }
}

/**
 * Changes the store in `path`: under its lock, read again (so that a concurrent writer's
 * observations are kept), changed, written to a temporary file and renamed over it, so that a
 * crash never leaves a half-written file.
 */
export async function updateStore(
  path: string,
  change: (store: CalibrationStore) => CalibrationStore,
): Promise<CalibrationStore> {
  const fs = builtin('node:fs/promises');
  const { dirname } = builtin('node:path');
  await fs.mkdir(dirname(path), { recursive: true });
  return locked(path, async () => {
    const store = change(await readStore(path));
    const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
    await fs.writeFile(temporary, `${JSON.stringify(store)}\n`);
    await fs.rename(temporary, path);
    return store;
  });
}
