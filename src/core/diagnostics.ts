import type { Debugger } from 'debug';
import { requirePackage } from './builtins.js';

/** Codes of the warnings this library emits, as listed in the README. */
export type WarningCode =
  | 'NLSQ_MEMORY_FRACTION_INVALID'
  | 'NLSQ_MEMORY_FRACTION_CLAMPED'
  | 'NLSQ_GPU_MEMORY_FRACTION_INVALID'
  | 'NLSQ_GPU_MEMORY_FRACTION_CLAMPED'
  | 'NLSQ_MEMORY_DETECTION_FAILED'
  | 'NLSQ_MEMORY_CHUNK_BELOW_MIN'
  | 'NLSQ_MEMORY_BUDGET_EXHAUSTED'
  | 'NLSQ_MEMORY_LIMIT_UNKNOWN'
  | 'NLSQ_MEMORY_WORKERS_GUESSED'
  | 'NLSQ_MEMORY_HEAP_ABOVE_LIMIT'
  | 'NLSQ_MEMORY_CALIBRATION_INVALID'
  | 'NLSQ_MEMORY_CALIBRATION_SKIPPED'
  | 'NLSQ_MEMORY_DEVICE_ORDER'
  | 'NLSQ_MEMORY_DEVICE_UNIFIED'
  | 'NLSQ_MEMORY_DEVICE_MIG_UNKNOWN'
  | 'NLSQ_MEMORY_DEVICE_TIMEOUT'
  | 'NLSQ_MEMORY_DEVICE_UUID_UNMATCHED';

// Kept on the global object: the files loaded on first use (dist/*.js) and the library share
// one record, so that a code is emitted once per process, whichever file emits it.
const slot = Symbol.for('nlsq-memory.emittedWarnings');
const holder = globalThis as { [slot]?: Set<string> };
holder[slot] ??= new Set<string>();
const emitted: Set<string> = holder[slot];

/**
 * Emits a `NlsqMemoryWarning` at most once per process for each code, however many distinct
 * messages (values) trigger it, so that the memory it keeps stays bounded. `source` separates
 * sources where that matters (a tool, a device kind): a fixed name, never a value.
 */
export function warnOnce(code: WarningCode, message: string, source = ''): void {
  const key = `${code}\0${source}`;
  if (emitted.has(key)) return;
  emitted.add(key);
  process.emitWarning(message, { type: 'NlsqMemoryWarning', code });
}

/** Forgets which warnings were emitted, so that tests see each one again. Not exported by the package. */
export function resetWarnings(): void {
  emitted.clear();
}

/** A printf-style logger that loads `debug` only once debug output can be on. */
export type Logger = (format: string, ...args: unknown[]) => void;

type CreateDebug = (namespace: string) => Debugger;

let createDebug: CreateDebug | undefined;

/**
 * `debug`, once output can be on: `DEBUG` is set, by the environment or by the application's
 * `debug.enable()` (which sets it). Until then logging costs no resolution and no import.
 */
function loadDebug(): CreateDebug | undefined {
  if (createDebug !== undefined) return createDebug;
  if (process.env.DEBUG === undefined) return undefined;
  try {
    createDebug = requirePackage('debug') as CreateDebug;
  } catch {
    // Left out of a bundle: debug output is off, and nothing else changes.
    createDebug = () => Object.assign(() => {}, { enabled: false }) as unknown as Debugger;
  }
  return createDebug;
}

/**
 * Returns a logger for the namespace `nlsq-memory:<name>`. A line the same as the one before it,
 * in the same turn of the event loop, is not repeated: answers computed twice from one snapshot
 * log once, while a retry or a poll, later, logs again.
 */
export function logger(
  name: 'detect' | 'threshold' | 'strategy' | 'plan' | 'watch' | 'device' | 'calibration',
): Logger {
  let log: Debugger | undefined;
  let last: unknown[] = [];
  return (format, ...args) => {
    if (log === undefined) {
      const create = loadDebug();
      if (create === undefined) return;
      log = create(`nlsq-memory:${name}`);
    }
    if (!log.enabled) return;
    const line = [format, ...args];
    if (line.length === last.length && line.every((part, at) => Object.is(part, last[at]))) return;
    if (last.length === 0) {
      setImmediate(() => {
        last = [];
      }).unref();
    }
    last = line;
    log(format, ...args);
  };
}
