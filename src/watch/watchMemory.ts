import type { PlanOptions } from '../answer/options.js';
import { PLANNING_FIELDS } from '../answer/options.js';
import { planNlsqFitSync, preparePlan } from '../answer/planFit.js';
import { assertBetween, received } from '../core/check.js';
import { logger, warnOnce } from '../core/diagnostics.js';
import { checkOptions, type Field, type Schema } from '../core/options.js';
import type { MemoryReport } from '../core/types.js';
import { gb } from '../core/units.js';
import { resolveDetect } from '../detect/detectOptions.js';
import { memoryPoller } from '../detect/poller.js';
import type { FitPlan } from '../policy/plan.js';
import { type Coalesce, Hub, type HubHooks, watchOf } from './hub.js';
import {
  type MemoryEvent,
  type MemoryWatch,
  type PlanWatchOptions,
  splitWatch,
  WATCH_FIELDS,
  type WatchOptions,
  type WatchRules,
} from './options.js';

export type {
  EventCounts,
  MemoryEvent,
  MemoryWatch,
  PlanWatchOptions,
  WatchOptions,
} from './options.js';

const log = logger('watch');

/** A late reader's pending events: one per type, the first `previousBytes`, summed counters, the latest pressure. */
const coalesceEvents: Coalesce<MemoryEvent> = (pending, event) => {
  const index = pending.findIndex((waiting) => waiting.type === event.type);
  const old = pending[index];
  if (old === undefined) {
    pending.push(event);
  } else if (old.type === 'limit' && event.type === 'limit') {
    // Back where it was: no change to tell.
    if (old.previousBytes === event.report.totalBytes) pending.splice(index, 1);
    else pending[index] = { ...event, previousBytes: old.previousBytes };
  } else if (old.type === 'events' && event.type === 'events') {
    const delta = { ...event.delta };
    for (const key of Object.keys(delta) as (keyof typeof delta)[]) delta[key] += old.delta[key];
    pending[index] = { ...event, delta };
  } else {
    pending[index] = event;
  }
};

/** A late reader's pending plan: only the latest. */
const latestOnly: Coalesce<FitPlan> = (pending, plan) => {
  pending.length = 0;
  pending.push(plan);
};

/**
 * Polls every `intervalMs` until the watch ends: `first` sees the first report, `each` the events
 * of every poll after it and the report they leave current. The timer keeps the process alive
 * only while a consumer awaits a value.
 */
function poll<T>(
  rules: WatchRules,
  watched: { detect: WatchOptions; pressure: boolean },
  hooks: Pick<HubHooks<T>, 'coalesce' | 'initial'>,
  first: (report: MemoryReport | null, hub: Hub<T>) => void,
  each: (events: MemoryEvent[], report: MemoryReport | null, hub: Hub<T>) => void,
): MemoryWatch<T> {
  const { intervalMs, signal } = rules;
  let timer: NodeJS.Timeout | undefined;
  const close = (): void => hub.close();
  const hub: Hub<T> = new Hub({
    ...hooks,
    stop: () => {
      clearInterval(timer);
      signal?.removeEventListener('abort', close);
    },
    demand: (waiting) => (waiting ? timer?.ref() : timer?.unref()),
  });
  if (signal?.aborted === true) {
    hub.close();
    return watchOf(hub);
  }
  signal?.addEventListener('abort', close, { once: true });
  const resolved = resolveDetect(watched.detect);
  // What a watch compares between polls is loaded with the first detection: importing the
  // library does not parse it.
  Promise.all([memoryPoller(resolved), import('./changes.js')])
    .then(([next, { Changes }]) => {
      if (hub.closed) return;
      const changes = new Changes(next(), {
        fsRoot: resolved.fsRoot,
        pressure: watched.pressure,
        pressureThreshold: rules.pressureThreshold,
        workingSetThreshold: rules.workingSetThreshold,
        headroomThreshold: rules.headroomThreshold,
      });
      first(changes.current(), hub);
      timer = setInterval(() => {
        try {
          each(changes.next(next()), changes.current(), hub);
        } catch (error) {
          hub.fail(error);
        }
      }, intervalMs);
      if (!hub.waiting) timer.unref();
    })
    .catch((error: unknown) => hub.fail(error));
  return watchOf(hub);
}

/**
 * Watches the memory this process may use while a long job runs: yields an event when the
 * limit or total changes (a pod resized in place), when memory pressure crosses its threshold
 * upward (the limiting cgroup's PSI on v2, its working set on v1, the host's PSI where there is
 * no limit, `availableBytes` down to `headroomThreshold` of the total), and when the limiting cgroup's counters rise (v2 `memory.events`,
 * v1 `memory.failcnt` and `oom_kill`). Each poll re-reads only what can change; a limit file
 * that vanishes or is half-written is skipped for that poll.
 *
 * Each `for await` is a consumer of its own, from when it starts: a reader that falls behind
 * gets the present, coalesced (one event per type), never a queue. While a consumer awaits, the
 * watch keeps the process alive; a watch nobody awaits never does.
 *
 * @param options - `intervalMs` (default 1000, at least 50), `signal`, `pressureThreshold`
 * (default 10), `workingSetThreshold` (default 0.9), `headroomThreshold` (default 0.05), and the
 * options of {@link detectMemory}.
 * @returns An async iterator of {@link MemoryEvent}s with `close()`; `break` ends one loop,
 * `close()` and the signal end them all, cleanly.
 * @throws TypeError or RangeError for a bad or unknown option, at the call, before any timer starts.
 * @example
 * ```ts
 * const ac = new AbortController();
 * for await (const event of watchMemory({ signal: ac.signal })) {
 *   if (event.type === 'limit') console.log('now', event.report.totalBytes, 'bytes');
 * }
 * ```
 */
export function watchMemory(options?: WatchOptions | null): MemoryWatch<MemoryEvent> {
  const { rules, rest } = splitWatch(checkOptions<WatchOptions>(options, WATCH_FIELDS));
  return poll<MemoryEvent>(
    rules,
    { detect: rest, pressure: true },
    { coalesce: coalesceEvents },
    () => {},
    (events, _report, hub) => {
      for (const event of events) hub.publish(event);
    },
  );
}

/** A GPU's options, which a plan watch does not take: it follows host memory. */
const HOST_ONLY: Field = (name, value) => {
  throw new TypeError(
    `Expected \`${name}\` not to be given to watchNlsqStrategy, which watches host memory, got ${received(value)}: plan a GPU fit with planNlsqFit`,
  );
};

/** The options of {@link watchNlsqStrategy}, each with its check. */
const PLAN_WATCH_FIELDS: Schema = {
  ...PLANNING_FIELDS,
  ...WATCH_FIELDS,
  device: HOST_ONLY,
  devices: HOST_ONLY,
  deviceTimeoutMs: HOST_ONLY,
  deviceProbes: HOST_ONLY,
  report: (name) => {
    throw new TypeError(
      `Expected \`${name}\` not to be given to watchNlsqStrategy, which reads a report at every poll`,
    );
  },
  minChange: (name, value) => assertBetween(name, value, [0, 1], false),
};

/** Whether `plan` differs enough from `last` to be yielded: another strategy, or a chunk that moved by `minChange`. */
function changed(plan: FitPlan, last: FitPlan | undefined, minChange: number): boolean {
  if (last === undefined || plan.decision.strategy !== last.decision.strategy) return true;
  const moved = Math.abs(plan.chunkPoints - last.chunkPoints);
  return moved > 0 && moved >= minChange * last.chunkPoints;
}

/**
 * Watches the plan of a long fit: yields the current {@link FitPlan} first, then a new one when
 * a change of the memory (see {@link watchMemory}) changes the strategy or moves `chunkPoints`
 * by at least `minChange` of the last plan yielded. Plans are made from each poll's report with
 * `planNlsqFitSync(..., { report })`, without detecting again. When not even one point fits
 * (no headroom left under `basis: 'available'`), it yields nothing until a plan fits again, with
 * a `NLSQ_MEMORY_BUDGET_EXHAUSTED` warning: the watch does not end.
 *
 * Each `for await` is a consumer of its own and starts with the current plan; a reader that
 * falls behind gets only the latest plan.
 *
 * @param nPoints - Number of data points, a non-negative integer.
 * @param nParams - Number of fit parameters, a non-negative integer.
 * @param options - Those of {@link planNlsqFit} but the GPU ones and `report`, those of
 * {@link watchMemory}, and `minChange` (default 0.1); `null` means "not given".
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
  const checked = checkOptions<PlanWatchOptions>(options, PLAN_WATCH_FIELDS);
  const { rules, rest } = splitWatch(checked);
  const { minChange = 0.1, ...given } = rest;
  // The options as they are now: a caller's later change to its env object changes no poll.
  const planning = { ...given, ...(given.env == null ? {} : { env: { ...given.env } }) };
  preparePlan(nPoints, nParams, planning); // every plan option, at the call
  /** The plan yielded last, for `minChange`; `current` is it while it still fits, else nothing. */
  let last: FitPlan | undefined;
  let current: FitPlan | undefined;
  const planFor = (report: MemoryReport | null, hub: Hub<FitPlan>): void => {
    if (report === null) return;
    let plan: FitPlan;
    try {
      plan = planNlsqFitSync(nPoints, nParams, { ...(planning as PlanOptions), report });
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      // Not even the whole budget holds one point, from the start: no wait can help.
      if (last === undefined && !fitsTotal(report)) throw error;
      current = undefined;
      warnOnce(
        'NLSQ_MEMORY_BUDGET_EXHAUSTED',
        `No plan fits the memory left (${gb(report.availableBytes ?? report.totalBytes)} available): waiting for memory to free up. ${error.message}`,
      );
      log('no plan fits: %s', error.message);
      return;
    }
    if (current === undefined || changed(plan, last, minChange ?? 0.1)) {
      last = plan;
      current = plan;
      hub.publish(plan);
    }
  };
  const fitsTotal = (report: MemoryReport): boolean => {
    try {
      planNlsqFitSync(nPoints, nParams, { ...(planning as PlanOptions), report, basis: 'total' });
      return true;
    } catch {
      return false;
    }
  };
  return poll<FitPlan>(
    rules,
    { detect: planning, pressure: false },
    { coalesce: latestOnly, initial: () => current },
    planFor,
    // Every poll: with basis 'available', the plan moves with usage, which raises no event.
    (_events, report, hub) => planFor(report, hub),
  );
}
