import { logger } from './diagnostics.js';
import { readText } from './files.js';
import {
  type DetectOptions,
  type MemoryReport,
  memoryPoller,
  type Polled,
} from './memoryDetect.js';
import { assertPositive, checkDetectOptions, MAX_TIMEOUT_MS, received } from './parse.js';
import { assertPlanInput, type FitPlan, type PlanOptions, planWithThreshold } from './plan.js';
import {
  EVENT_KEYS,
  type EventCounts,
  type Pressure,
  readEvents,
  readPressure,
  watchedDirectory,
} from './pressure.js';
import { assertThresholdInput, thresholdFromReport } from './threshold.js';

/** Options of {@link watchMemory}: how often to look, when to stop, and what counts as pressure. */
export interface WatchOptions extends DetectOptions {
  /** The poll period in ms, at least 50. Default: 1000. */
  intervalMs?: number | null;
  /** Ends the watch when aborted. */
  signal?: AbortSignal | null;
  /** The PSI `avg10` percentage, of `some` or `full`, that counts as pressure. Default: 10. */
  pressureThreshold?: number | null;
}

/**
 * Options of {@link watchNlsqStrategy}: those of {@link planNlsqFit} but the GPU ones, and those of
 * {@link watchMemory}.
 */
export interface PlanWatchOptions
  extends Omit<PlanOptions, 'device' | 'deviceTimeoutMs' | 'deviceProbes'>,
    WatchOptions {
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
      /** The previous `totalBytes`. */
      previousBytes: number;
      /** The memory as read now. */
      report: MemoryReport;
    }
  | {
      /** PSI `avg10` of a level crossed the threshold upward. */
      type: 'pressure';
      /** `some`: at least one task stalled on memory; `full`: all of them. */
      level: 'some' | 'full';
      /** The `avg10` percentage read. */
      avg10: number;
      /** The memory as read now. */
      report: MemoryReport;
    }
  | {
      /** `memory.events` counters rose: throttled at `memory.high`, hit `memory.max`, OOM. */
      type: 'events';
      /** How much each counter rose since the last poll. */
      delta: EventCounts;
      /** The memory as read now. */
      report: MemoryReport;
    };

/** An async iterator of events that can be ended with `close()`, `break`, or its signal. */
export interface MemoryWatch<T> extends AsyncIterableIterator<T> {
  /** Ends the watch: pending and later `next()` calls resolve `done`. Safe to call twice. */
  close(): void;
}

const DEFAULT_INTERVAL_MS = 1000;
const MIN_INTERVAL_MS = 50;
const DEFAULT_PRESSURE_THRESHOLD = 10;
const log = logger('watch');

interface ResolvedWatch {
  intervalMs: number;
  signal: AbortSignal | undefined;
  pressureThreshold: number;
}

/** Checks the watch's own options; the detection options are checked by the poller. */
function resolveWatchOptions(options: WatchOptions): ResolvedWatch {
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  assertPositive('intervalMs', intervalMs);
  if (intervalMs < MIN_INTERVAL_MS || intervalMs > MAX_TIMEOUT_MS) {
    throw new RangeError(
      `Expected \`intervalMs\` to be between ${MIN_INTERVAL_MS} and ${MAX_TIMEOUT_MS}, got ${received(intervalMs)}`,
    );
  }
  const signal = options.signal ?? undefined;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`Expected \`signal\` to be an AbortSignal, got ${received(signal)}`);
  }
  const pressureThreshold = options.pressureThreshold ?? DEFAULT_PRESSURE_THRESHOLD;
  assertPositive('pressureThreshold', pressureThreshold, true);
  if (pressureThreshold > 100) {
    throw new RangeError(
      `Expected \`pressureThreshold\` to be a percentage from 0 to 100, got ${received(pressureThreshold)}`,
    );
  }
  return { intervalMs, signal, pressureThreshold };
}

function checkOptions(options: WatchOptions | null | undefined): WatchOptions {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`Expected \`options\` to be an object, got ${received(options)}`);
  }
  return options;
}

/** How a limit file reads now: gone, a whole value (`max`, a number, a stat with its limit), or garbled. */
function limitFileState(file: string): 'gone' | 'whole' | 'garbled' {
  const text = readText(file)?.trim();
  if (text === undefined) return 'gone';
  const whole = file.endsWith('memory.stat')
    ? /^hierarchical_memory_limit \d+$/m.test(text)
    : /^(max|\d+)$/.test(text);
  return whole ? 'whole' : 'garbled';
}

/** Compares each poll with the one before and says what changed. */
class Differ {
  #previous: Polled;
  #above = { some: false, full: false };
  #counts: { directory: string | undefined; counts: EventCounts | undefined };
  #skipped = false;

  readonly #fsRoot: string;
  readonly #threshold: number;

  constructor(first: Polled, fsRoot: string, threshold: number) {
    this.#fsRoot = fsRoot;
    this.#threshold = threshold;
    this.#previous = first;
    const directory = watchedDirectory(first.layout, first.report?.limitOrigin ?? null);
    this.#pressure(readPressure(fsRoot, directory));
    this.#counts = { directory, counts: readEvents(directory) };
  }

  /** The report of the last poll that was not skipped. */
  current(): MemoryReport | null {
    return this.#previous.report;
  }

  /** Records which levels are above the threshold; returns those that just crossed it. */
  #pressure(pressure: Pressure | undefined): ('some' | 'full')[] {
    const crossed: ('some' | 'full')[] = [];
    for (const level of ['some', 'full'] as const) {
      const avg10 = pressure?.[level];
      if (avg10 === undefined) continue;
      const above = avg10 >= this.#threshold;
      if (above && !this.#above[level]) crossed.push(level);
      this.#above[level] = above;
    }
    return crossed;
  }

  /** The events of one poll; none when the poll read a half-written or vanished limit file. */
  next(polled: Polled): MemoryEvent[] {
    const { report } = polled;
    const before = this.#previous.report;
    const origin = before?.limitOrigin;
    // A limit file half-written is skipped for as long as it reads so; one that is gone, for
    // one poll (a cgroup being replaced), and then believed (the limit was removed).
    const state =
      before?.limitSource?.startsWith('cgroup') === true && origin
        ? limitFileState(origin)
        : 'whole';
    if (report === null || state === 'garbled' || (state === 'gone' && !this.#skipped)) {
      this.#skipped = true;
      log('skipping a poll: %s', report === null ? 'nothing known' : `${origin} is ${state}`);
      return [];
    }
    this.#skipped = false;
    this.#previous = polled;
    const events: MemoryEvent[] = [];
    if (before !== null && before.totalBytes !== report.totalBytes) {
      events.push({ type: 'limit', previousBytes: before.totalBytes, report });
    }
    const directory = watchedDirectory(polled.layout, report.limitOrigin);
    const pressure = readPressure(this.#fsRoot, directory);
    for (const level of this.#pressure(pressure)) {
      events.push({ type: 'pressure', level, avg10: pressure?.[level] ?? 0, report });
    }
    const counts = readEvents(directory);
    const last = this.#counts;
    if (counts !== undefined) {
      if (last.directory === directory && last.counts !== undefined) {
        const delta = {} as EventCounts;
        let rose = false;
        let fell = false;
        for (const key of EVENT_KEYS) {
          delta[key] = counts[key] - last.counts[key];
          rose ||= delta[key] > 0;
          fell ||= delta[key] < 0;
        }
        if (rose && !fell) events.push({ type: 'events', delta, report });
      }
      this.#counts = { directory, counts };
    }
    return events;
  }
}

/**
 * An async iterator over values pushed by `start`, ended by `close()`, `return()` (a `break`),
 * the signal, or a failure (the next `next()` rejects with it). Timers made by `start` must be
 * unref'd; the function it returns clears them.
 */
export function iterate<T>(
  signal: AbortSignal | undefined,
  start: (push: (value: T) => void, fail: (error: unknown) => void) => () => void,
): MemoryWatch<T> {
  const queue: T[] = [];
  const waiting: [(result: IteratorResult<T, undefined>) => void, (error: unknown) => void][] = [];
  let closed = false;
  let failure: { error: unknown } | undefined;
  let stop: (() => void) | undefined;
  const close = (): void => {
    if (closed) return;
    closed = true;
    signal?.removeEventListener('abort', close);
    stop?.();
    queue.length = 0;
    for (const [resolve] of waiting.splice(0)) resolve({ value: undefined, done: true });
  };
  const push = (value: T): void => {
    if (closed) return;
    const waiter = waiting.shift();
    if (waiter === undefined) queue.push(value);
    else waiter[0]({ value, done: false });
  };
  const fail = (error: unknown): void => {
    if (closed) return;
    const waiter = waiting.shift();
    if (waiter === undefined) failure = { error };
    else waiter[1](error);
    close();
  };
  if (signal?.aborted === true) closed = true;
  else {
    signal?.addEventListener('abort', close, { once: true });
    stop = start(push, fail);
  }
  const watch: MemoryWatch<T> = {
    next: () => {
      if (queue.length > 0) return Promise.resolve({ value: queue.shift() as T, done: false });
      if (failure !== undefined) {
        const { error } = failure;
        failure = undefined;
        return Promise.reject(error);
      }
      if (closed) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve, reject) => waiting.push([resolve, reject]));
    },
    return: () => {
      close();
      return Promise.resolve({ value: undefined, done: true });
    },
    close,
    [Symbol.asyncIterator]: () => watch,
  };
  return watch;
}

/**
 * Watches the memory this process may use while a long job runs: yields an event when the
 * limit or total changes (a pod resized in place), when PSI memory pressure crosses
 * `pressureThreshold` upward, and when `memory.events` counters rise. Each poll re-reads only
 * the cgroup files that can change; a file that vanishes or is half-written is skipped for that
 * poll. Timers are unref'd: a watch never keeps a finished process alive.
 *
 * @param options - `intervalMs` (default 1000, at least 50), `signal`, `pressureThreshold`
 * (default 10), and the options of {@link detectMemory}.
 * @returns An async iterator of {@link MemoryEvent}s with `close()`; `break`, `close()` and the
 * signal end it cleanly.
 * @throws TypeError or RangeError for a bad option, at the call, before any timer starts.
 * @example
 * ```ts
 * const ac = new AbortController();
 * for await (const event of watchMemory({ signal: ac.signal })) {
 *   if (event.type === 'limit') console.log('now', event.report.totalBytes, 'bytes');
 * }
 * ```
 */
export function watchMemory(options?: WatchOptions | null): MemoryWatch<MemoryEvent> {
  const { watch, detect } = splitOptions(options);
  return poll<MemoryEvent>(watch, detect, (events, _report, push) => {
    for (const event of events) push(event);
  });
}

/**
 * Watches the plan of a long fit: yields the current {@link FitPlan} first, then a new one each
 * time a change of the memory (see {@link watchMemory}) changes the strategy or the chunk size,
 * not when only the threshold moves. Plans are made from each poll's report, without detecting
 * again. A plan that cannot be made any more (not even one point fits) ends the watch: the next
 * `next()` rejects with its RangeError.
 *
 * @param nPoints - Number of data points, a non-negative integer.
 * @param nParams - Number of fit parameters, a non-negative integer.
 * @param options - Those of {@link planNlsqFit} but `device`, and of {@link watchMemory}; `null`
 * means "not given".
 * @returns An async iterator of frozen plans, with `close()`.
 * @throws TypeError or RangeError for bad sizes or options, at the call, before any timer;
 * TypeError for `device`: a watch follows host memory, not a GPU's.
 * @example
 * ```ts
 * const ac = new AbortController();
 * for await (const plan of watchNlsqStrategy(23_000_000, 53, { signal: ac.signal })) {
 *   resizeChunks(plan.chunkPoints); // a new plan each time the budget moves it
 * }
 * ```
 */
export function watchNlsqStrategy(
  nPoints: number,
  nParams: number,
  options?: PlanWatchOptions | null,
): MemoryWatch<FitPlan> {
  const { watch, detect } = splitOptions(options);
  assertPlanInput(nPoints, nParams, detect);
  const { device } = detect as PlanOptions;
  if (device != null) {
    throw new TypeError(
      `Expected \`device\` not to be given to watchNlsqStrategy, which watches host memory, got ${received(device)}: plan a GPU fit with planNlsqFit`,
    );
  }
  assertThresholdInput(detect); // the fraction and the basis, at the call, before any timer
  let last: FitPlan | undefined;
  const planFor = (report: MemoryReport | null, push: (plan: FitPlan) => void): void => {
    const plan = planWithThreshold(nPoints, nParams, detect, thresholdFromReport(detect, report));
    const changed =
      last === undefined ||
      plan.decision.strategy !== last.decision.strategy ||
      plan.chunkPoints !== last.chunkPoints;
    if (!changed) return;
    last = plan;
    push(plan);
  };
  return poll<FitPlan>(
    watch,
    detect,
    // Every poll: with basis 'available', the plan moves with usage, which raises no event.
    (_events, report, push) => planFor(report, push),
    planFor,
  );
}

/** The watch's own options, checked, and the rest. */
function splitOptions<T extends WatchOptions>(
  options: T | null | undefined,
): { watch: ResolvedWatch; detect: Omit<T, keyof ResolvedWatch> } {
  const checked = checkOptions(options) as T;
  const { intervalMs: _i, signal: _s, pressureThreshold: _p, ...detect } = checked;
  const watch = resolveWatchOptions(checked);
  checkDetectOptions(detect as DetectOptions); // even where an aborted signal means no detection
  return { watch, detect };
}

/**
 * Polls every `intervalMs` until the watch ends; `first` sees the first report, `changed` the
 * events of each poll. Options are checked at once, before any timer.
 */
function poll<T>(
  { intervalMs, signal, pressureThreshold }: ResolvedWatch,
  detect: DetectOptions,
  changed: (events: MemoryEvent[], report: MemoryReport | null, push: (value: T) => void) => void,
  first?: (report: MemoryReport | null, push: (value: T) => void) => void,
): MemoryWatch<T> {
  const polling = signal?.aborted === true ? undefined : memoryPolls(detect, pressureThreshold);
  return iterate<T>(signal, (push, fail) => {
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const schedule = (polls: Polls): void => {
      timer = setTimeout(() => {
        try {
          changed(polls.next(), polls.current(), push);
          schedule(polls);
        } catch (error) {
          fail(error);
        }
      }, intervalMs).unref();
    };
    polling?.then((polls) => {
      if (stopped) return;
      try {
        first?.(polls.report, push);
        schedule(polls);
      } catch (error) {
        fail(error);
      }
    }, fail);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  });
}

/** The polls of a watch: the first report, then what each poll changed and what it read. */
export interface Polls {
  /** The report of the first poll. */
  report: MemoryReport | null;
  /** Polls once: what changed since the poll before. */
  next: () => MemoryEvent[];
  /** The report of the last poll that was not skipped. */
  current: () => MemoryReport | null;
}

/** Starts the polls of a watch; the options are checked at once. */
export function memoryPolls(detect: DetectOptions, pressureThreshold: number): Promise<Polls> {
  const polling = memoryPoller(detect);
  const fsRoot = detect.fsRoot ?? '/';
  return polling.then((poll) => {
    const first = poll();
    const differ = new Differ(first, fsRoot, pressureThreshold);
    return {
      report: first.report,
      next: () => differ.next(poll()),
      current: () => differ.current(),
    };
  });
}
