import { createRequire } from 'node:module';
import type { Debugger } from 'debug';

/** Codes of the warnings this library emits, as listed in the README. */
export type WarningCode =
  | 'NLSQ_MEMORY_FRACTION_INVALID'
  | 'NLSQ_MEMORY_FRACTION_CLAMPED'
  | 'NLSQ_MEMORY_DETECTION_FAILED';

const emitted = new Set<string>();

/** Emits a `NlsqMemoryWarning` once per process for each distinct code and message. */
export function warnOnce(code: WarningCode, message: string): void {
  const key = `${code}\0${message}`;
  if (emitted.has(key)) return;
  emitted.add(key);
  process.emitWarning(message, { type: 'NlsqMemoryWarning', code });
}

/** A printf-style logger that loads `debug` on its first call, so importing costs nothing. */
export type Logger = (format: string, ...args: unknown[]) => void;

let createDebug: ((namespace: string) => Debugger) | undefined;

/** Returns a lazy logger for the namespace `nlsq-memory:<name>`. */
export function logger(name: 'detect' | 'threshold' | 'strategy'): Logger {
  let log: Debugger | undefined;
  return (format, ...args) => {
    // `require` is cheaper than an ESM import of this CommonJS package.
    createDebug ??= createRequire(import.meta.url)('debug') as (namespace: string) => Debugger;
    log ??= createDebug(`nlsq-memory:${name}`);
    if (log.enabled) log(format, ...args);
  };
}
