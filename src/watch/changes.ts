import { logger } from '../core/diagnostics.js';
import type { MemoryReport } from '../core/types.js';
import type { Polled } from '../detect/snapshot.js';
import type { HierarchyReading } from '../sources/cgroup.js';
import { readText } from '../sources/files.js';
import {
  EVENT_KEYS,
  type EventCounts,
  readCgroupPressure,
  readCounters,
  readHostPressure,
} from '../sources/pressure.js';
import type { MemoryEvent } from './options.js';

type PressureEvent = Extract<MemoryEvent, { type: 'pressure' }>;

/** A pressure figure read by one poll, before it is compared with its threshold. */
interface Reading {
  key: 'some' | 'full' | 'working-set' | 'headroom';
  source: PressureEvent['source'];
  level: PressureEvent['level'];
  value: number;
  above: boolean;
}

const log = logger('watch');

/** How a limit file reads now: gone, a whole value (`max`, a number, a stat with its limit), or garbled. */
function limitFileState(file: string): 'gone' | 'whole' | 'garbled' {
  const text = readText(file)?.trim();
  if (text === undefined) return 'gone';
  const whole = file.endsWith('memory.stat')
    ? /^hierarchical_memory_limit \d+$/m.test(text)
    : /^(max|\d+)$/.test(text);
  return whole ? 'whole' : 'garbled';
}

/** The hierarchy whose file set the report's limit, if a cgroup set it. */
function limiting(polled: Polled, report: MemoryReport): HierarchyReading | undefined {
  return polled.limits.hierarchies.find(
    (hierarchy) =>
      hierarchy.limit.kind === 'bytes' && hierarchy.limit.origin === report.limitOrigin,
  );
}

/** The cgroup a watch reads counters and PSI from: the limiting one, else the process's own (v2 first). */
function watchedCgroup(
  polled: Polled,
  report: MemoryReport,
): { directory: string; version: HierarchyReading['version'] } | undefined {
  const limit = limiting(polled, report);
  if (limit?.limitDirectory != null) {
    return { directory: limit.limitDirectory, version: limit.version };
  }
  const located = polled.limits.layout.hierarchies;
  const own = located.find(({ version }) => version === 'cgroup-v2') ?? located[0];
  return own === undefined ? undefined : { directory: own.directories[0], version: own.version };
}

/**
 * The pressure figures of one poll: the watched v2 cgroup's PSI; where a limit has no PSI of its
 * own, its working set against `workingSetThreshold`; the host's PSI only where there is no
 * limit; and the headroom when nothing is left.
 */
function pressures(
  polled: Polled,
  report: MemoryReport,
  fsRoot: string,
  thresholds: { pressure: number; workingSet: number },
): Reading[] {
  const found: Reading[] = [];
  const cgroup = watchedCgroup(polled, report);
  let psi = cgroup?.version === 'cgroup-v2' ? readCgroupPressure(cgroup.directory) : undefined;
  const ratio = limiting(polled, report)?.workingSetRatio ?? null;
  if (psi === undefined && report.limitBytes !== null && ratio !== null) {
    found.push({
      key: 'working-set',
      source: 'working-set',
      level: null,
      value: ratio,
      above: ratio >= thresholds.workingSet,
    });
  } else if (psi === undefined && report.limitBytes === null) {
    psi = readHostPressure(fsRoot);
  }
  for (const level of ['some', 'full'] as const) {
    const value = psi?.[level];
    if (value !== undefined) {
      found.push({ key: level, source: 'psi', level, value, above: value >= thresholds.pressure });
    }
  }
  if (report.availableBytes !== null) {
    const value = report.availableBytes;
    found.push({ key: 'headroom', source: 'headroom', level: null, value, above: value === 0 });
  }
  return found;
}

/** Compares each poll with the one before and says what changed. */
export class Changes {
  #previous: Polled;
  #skipped = false;
  readonly #above = new Set<Reading['key']>();
  #counts: { directory: string; counts: EventCounts } | undefined;
  readonly #fsRoot: string;
  readonly #thresholds: { pressure: number; workingSet: number };

  constructor(first: Polled, fsRoot: string, thresholds: { pressure: number; workingSet: number }) {
    this.#fsRoot = fsRoot;
    this.#thresholds = thresholds;
    this.#previous = first;
    if (first.report !== null) this.#diff(first, first.report);
  }

  /** The report of the last poll that was not skipped. */
  current(): MemoryReport | null {
    return this.#previous.report;
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
    events.push(...this.#diff(polled, report));
    return events;
  }

  /** The pressure that crossed its threshold upward, and the counters that rose, since the last poll. */
  #diff(polled: Polled, report: MemoryReport): MemoryEvent[] {
    const events: MemoryEvent[] = [];
    const seen = new Set<Reading['key']>();
    for (const { key, source, level, value, above } of pressures(
      polled,
      report,
      this.#fsRoot,
      this.#thresholds,
    )) {
      seen.add(key);
      if (above && !this.#above.has(key)) {
        events.push({ type: 'pressure', source, level, value, report });
      }
      if (above) this.#above.add(key);
      else this.#above.delete(key);
    }
    for (const key of this.#above) if (!seen.has(key)) this.#above.delete(key);
    const cgroup = watchedCgroup(polled, report);
    const counts =
      cgroup === undefined ? undefined : readCounters(cgroup.directory, cgroup.version);
    if (cgroup === undefined || counts === undefined) return events;
    const last = this.#counts;
    this.#counts = { directory: cgroup.directory, counts };
    if (last?.directory !== cgroup.directory) return events;
    const delta = {} as EventCounts;
    let rose = false;
    let fell = false;
    for (const key of EVENT_KEYS) {
      delta[key] = counts[key] - last.counts[key];
      rose ||= delta[key] > 0;
      fell ||= delta[key] < 0;
    }
    // A counter reset to 0 (v1 `failcnt` can be) starts a new count: no event.
    if (rose && !fell) events.push({ type: 'events', delta, report });
    return events;
  }
}
