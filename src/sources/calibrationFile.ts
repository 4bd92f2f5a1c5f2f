import { builtin } from '../core/builtins.js';
import { MAX_MULTIPLIER } from '../core/check.js';
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
  // The home of `env`, as os.homedir() reads it from process.env: a given env names its own.
  const homeVariable = env[windows ? 'USERPROFILE' : 'HOME'];
  const home =
    homeVariable !== undefined && path.isAbsolute(homeVariable)
      ? homeVariable
      : builtin('node:os').homedir();
  const cache = windows ? env.LOCALAPPDATA : env.XDG_CACHE_HOME;
  const base =
    cache !== undefined && path.isAbsolute(cache)
      ? cache
      : windows
        ? path.join(home, 'AppData', 'Local')
        : path.join(home, '.cache');
  return path.join(base, 'nlsq-memory', 'calibration.json');
}

/** An overhead a plan can take: above 0, at most the largest multiplier an option may be. */
function isOverhead(value: unknown): value is number {
  return typeof value === 'number' && value > 0 && value <= MAX_MULTIPLIER;
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

/** Says that a file was set aside, or why it could not be (`failed`); never a throw. */
export function warnSetAside(path: string, aside: string, failed?: unknown): void {
  const code = (failed as NodeJS.ErrnoException | undefined)?.code;
  const where =
    failed === undefined
      ? `set aside as ${aside}`
      : `it could not be set aside (${code ?? String(failed)}), and is read as empty`;
  warnOnce(
    'NLSQ_MEMORY_CALIBRATION_INVALID',
    `${path} is no calibration file of this library: ${where}; learning starts again`,
  );
}

/** A store parsed from its file, and the file's identity then. */
interface Parsed {
  identity: string;
  store: CalibrationStore;
}

// Kept on the global object, as the warnings are: the bundle that records forgets what the
// library's bundle parsed.
const slot = Symbol.for('nlsq-memory.calibrationStores');
const holder = globalThis as { [slot]?: Map<string, Parsed> };
holder[slot] ??= new Map<string, Parsed>();
const parsed: Map<string, Parsed> = holder[slot];
/** The most files whose stores are kept parsed. */
const MAX_PARSED = 16;

/** Forgets the store parsed from `path`: this process wrote it. */
export function forgetStore(path: string): void {
  parsed.delete(builtin('node:path').resolve(path));
}

/**
 * The store in `path`: empty when missing or unreadable; a corrupt file is set aside. Never
 * throws. Parsed once while the file stays the same file (inode), of the same size and times: a
 * stat per call. Another process's write renames a new file over it; this process's forgets it.
 */
export function readStoreSync(
  path: string,
  readFile: (path: string) => string = (file) => builtin('node:fs').readFileSync(file, 'utf8'),
): CalibrationStore {
  const fs = builtin('node:fs');
  const key = builtin('node:path').resolve(path);
  let identity: string;
  let text: string;
  try {
    const stat = fs.statSync(path, { bigint: true, throwIfNoEntry: false });
    if (stat === undefined) {
      parsed.delete(key);
      return emptyStore();
    }
    identity = `${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
    const known = parsed.get(key);
    if (known?.identity === identity) return known.store;
    text = readFile(path);
  } catch {
    return emptyStore();
  }
  const store = parseStore(text);
  if (store !== undefined) {
    parsed.delete(key);
    if (parsed.size >= MAX_PARSED) parsed.delete(parsed.keys().next().value ?? '');
    parsed.set(key, { identity, store });
    return store;
  }
  const aside = asideName(path);
  let failed: unknown;
  try {
    fs.renameSync(path, aside);
  } catch (error) {
    failed = error;
    log('cannot set %s aside: %s', path, error);
  }
  warnSetAside(path, aside, failed);
  return emptyStore();
}
