import type { PlanOptions } from '../answer/options.js';
import { assertBetween, expected, MAX_TIMEOUT_MS } from '../core/check.js';
import type { Schema } from '../core/options.js';
import type { MemoryReport } from '../core/types.js';
import { DETECT_FIELDS, type DetectOptions } from '../detect/detectOptions.js';
import type { EventCounts } from '../sources/pressure.js';

export type { EventCounts } from '../sources/pressure.js';

/** Options of {@link watchMemory}: how often to look, when to stop, and what counts as pressure. */
export interface WatchOptions extends DetectOptions {
  /** The poll period in ms, at least 50. Default: 1000. */
  intervalMs?: number | null;
  /** Ends the watch when aborted: every consumer's loop ends, without an error. */
  signal?: AbortSignal | null;
  /** The PSI `avg10` percentage, of `some` or `full`, that counts as pressure. Default: 10. */
  pressureThreshold?: number | null;
  /** Where a limit has no PSI of its own (cgroup v1): the working set / limit that counts as pressure, in (0, 1]. Default: 0.9. */
  workingSetThreshold?: number | null;
  /** The fraction of `totalBytes` that, once `availableBytes` is at or below it, counts as nothing left, in [0, 1). Default: 0.05. */
  headroomThreshold?: number | null;
}

/**
 * Options of {@link watchNlsqStrategy}: those of {@link planNlsqFit} but the GPU ones, those of
 * {@link watchMemory}, and `minChange`.
 */
export interface PlanWatchOptions
  extends Omit<PlanOptions, 'device' | 'devices' | 'deviceTimeoutMs' | 'deviceProbes' | 'report'>,
    WatchOptions {
  /** A new plan when `chunkPoints` moves by at least this fraction of the last one yielded, in [0, 1). Default: 0.1. */
  minChange?: number | null;
  /**
   * Not taken: a watch follows host memory, not a GPU's. Plan a GPU fit with {@link planNlsqFit}
   * and its `device` option.
   */
  device?: null;
}

/** A change in the memory this process may use, with a fresh report. */
export type MemoryEvent =
  | {
      /** `totalBytes` changed: a resized pod, a new limit, a removed one. */
      type: 'limit';
      /** `totalBytes` before the change (the first one, when a late reader gets several at once). */
      previousBytes: number;
      /** The memory as read now. */
      report: MemoryReport;
    }
  | {
      /** Memory pressure crossed its threshold upward. */
      type: 'pressure';
      /**
       * `'psi'`: PSI `avg10` of the limiting cgroup (v2), or of the host where there is no limit;
       * `'working-set'`: working set / limit, where the limit has no PSI of its own (v1);
       * `'headroom'`: nothing is left, `availableBytes` at or below `headroomThreshold` of the total.
       */
      source: 'psi' | 'working-set' | 'headroom';
      /** For `'psi'`: `some` (at least one task stalled on memory) or `full` (all of them); else `null`. */
      level: 'some' | 'full' | null;
      /** The `avg10` percentage, the working-set ratio, or the headroom in bytes. */
      value: number;
      /** The memory as read now. */
      report: MemoryReport;
    }
  | {
      /** The limiting cgroup's counters rose: throttled at `memory.high`, hit the limit, OOM kills. */
      type: 'events';
      /** How much each counter rose (summed, when a late reader gets several at once). */
      delta: EventCounts;
      /** The memory as read now. */
      report: MemoryReport;
    };

/** An async iterator of events that can be ended with `close()`, `break`, or its signal. */
export interface MemoryWatch<T> extends AsyncIterableIterator<T> {
  /** Ends the watch for every consumer: pending and later `next()` calls resolve `done`. Safe to call twice. */
  close(): void;
}

/** The watch's own options, resolved. */
export interface WatchRules {
  intervalMs: number;
  signal: AbortSignal | undefined;
  pressureThreshold: number;
  workingSetThreshold: number;
  headroomThreshold: number;
}

const MIN_INTERVAL_MS = 50;

/** The options of {@link watchMemory}, each with its check. */
export const WATCH_FIELDS: Schema = {
  ...DETECT_FIELDS,
  intervalMs: (name, value) => assertBetween(name, value, [MIN_INTERVAL_MS, MAX_TIMEOUT_MS], true),
  signal: (name, value) => {
    if (!(value instanceof AbortSignal)) throw expected(TypeError, name, 'an AbortSignal', value);
  },
  pressureThreshold: (name, value) => assertBetween(name, value, [0, 100], true),
  workingSetThreshold: (name, value) => {
    assertBetween(name, value, [0, 1], true);
    if (value === 0) throw new RangeError(`Expected \`${name}\` to be above 0, got 0`);
  },
  headroomThreshold: (name, value) => assertBetween(name, value, [0, 1], false),
};

/** The watch's own options with their defaults, and the rest. */
export function splitWatch<T extends WatchOptions>(
  options: T,
): { rules: WatchRules; rest: Omit<T, keyof WatchRules> } {
  const { intervalMs, signal, pressureThreshold, workingSetThreshold, headroomThreshold, ...rest } =
    options;
  return {
    rules: {
      intervalMs: intervalMs ?? 1000,
      signal: signal ?? undefined,
      pressureThreshold: pressureThreshold ?? 10,
      workingSetThreshold: workingSetThreshold ?? 0.9,
      headroomThreshold: headroomThreshold ?? 0.05,
    },
    rest,
  };
}
