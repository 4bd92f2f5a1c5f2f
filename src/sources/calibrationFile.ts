import { builtin } from '../core/builtins.js';
import { logger, warnOnce } from '../core/diagnostics.js';
import { type CalibrationStore, STRATEGIES, type StoredEntry } from '../core/types.js';

const log = logger('calibration');

/** An empty store. */
export function emptyStore(): CalibrationStore {
  return { version: 1, entries: [] };
}

/**
 * Where the calibration file is: `store`, else `NLSQ_MEMORY_CALIBRATION`, else
 * `$XDG_CACHE_HOME/nlsq-memory/calibration.json` (`~/.cache/…`; `%LOCALAPPDATA%\…` on Windows).
 * As the XDG spec says, a cache variable that is empty or not an absolute path is ignored.
 */
export function storePath(
  store: string | undefined,
  env: Record<string, string | undefined>,
  platform: string = process.platform,
): string {
  if (store !== undefined) return store;
  const given = env.NLSQ_MEMORY_CALIBRATION;
  if (given !== undefined && given !== '') return given;
  const windows = platform === 'win32';
  const path = builtin('node:path')[windows ? 'win32' : 'posix'];
  const home = builtin('node:os').homedir();
  const cache = windows ? env.LOCALAPPDATA : env.XDG_CACHE_HOME;
  const base =
    cache !== undefined && path.isAbsolute(cache)
      ? cache
      : windows
        ? path.join(home, 'AppData', 'Local')
        : path.join(home, '.cache');
  return path.join(base, 'nlsq-memory', 'calibration.json');
}

function isOverhead(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

/** Reads a store from a file's text; `undefined` for anything that is not one (corrupt, foreign). */
export function parseStore(text: string): CalibrationStore | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  const { version, entries } = (data ?? {}) as { version?: unknown; entries?: unknown };
  if (version !== 1 || !Array.isArray(entries)) return undefined;
  const store = emptyStore();
  for (const raw of entries as unknown[]) {
    const entry = raw as Partial<StoredEntry> | null;
    const valid =
      typeof entry?.key === 'string' &&
      STRATEGIES.includes(entry.strategy as StoredEntry['strategy']) &&
      Number.isSafeInteger(entry.bytesPerElement) &&
      Array.isArray(entry.observations) &&
      entry.observations.every(isOverhead) &&
      typeof entry.updatedAt === 'number';
    if (!valid) return undefined;
    store.entries.push(entry as StoredEntry);
  }
  return store;
}

/** The name a file that is not a store is set aside under. */
export function asideName(path: string): string {
  return `${path}.invalid-${Date.now()}`;
}

/** Says that a file was set aside; never a throw. */
export function warnSetAside(path: string, aside: string): void {
  warnOnce(
    'NLSQ_MEMORY_CALIBRATION_INVALID',
    `${path} is no calibration file of this library: set aside as ${aside}; learning starts again`,
  );
}

/** The store in `path`: empty when missing or unreadable; a corrupt file is set aside. Never throws. */
export function readStoreSync(path: string): CalibrationStore {
  const fs = builtin('node:fs');
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch {
    return emptyStore();
  }
  const store = parseStore(text);
  if (store !== undefined) return store;
  const aside = asideName(path);
  try {
    fs.renameSync(path, aside);
  } catch (error) {
    log('cannot set %s aside: %s', path, error);
  }
  warnSetAside(path, aside);
  return emptyStore();
}
