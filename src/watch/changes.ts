import { logger } from '../core/diagnostics.js';
import type { MemoryReport } from '../core/types.js';
import type { Polled } from '../detect/poller.js';
import type { HierarchyReading } from '../sources/cgroup.js';
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
interface Figure {
  key: 'some' | 'full' | 'working-set' | 'headroom';
  source: PressureEvent['source'];
  level: PressureEvent['level'];
  value: number;
  above: boolean;
}

/** What a watch compares besides the limit; a plan watch needs only the report. */
export interface Watched {
  fsRoot: string;
  /** Whether to read pressure and counters at all. */
  pressure: boolean;
  pressureThreshold: number;
  workingSetThreshold: number;
  headroomThreshold: number;
}

const log = logger('watch');

/** How the file that set the last limit reads in this poll: gone, whole, or garbled. */
function originState(polled: Polled, origin: string): 'gone' | 'whole' | 'garbled' {
  for (const { files } of polled.limits.hierarchies) {
    const reading = files.get(origin);
    if (reading !== undefined) return reading.kind === 'unknown' ? 'garbled' : 'whole';
  }
  return 'gone';
}

/** The hierarchy whose file set the report's limit, if a cgroup set it. */
function limiting(polled: Polled, report: MemoryReport): HierarchyReading | undefined {
  return polled.limits.hierarchies.find(
    (hierarchy) =>
      hierarchy.limit.kind === 'bytes' && hierarchy.limit.origin === report.limitOrigin,
  );
}

/**
 * The cgroup a watch reads counters and PSI from: the limiting one; without any limit, the
 * process's own (v2 first); with a limit no cgroup file sets (Slurm's, Node's), none.
 */
function watchedCgroup(
  polled: Polled,
  report: MemoryReport,
): { directory: string; version: HierarchyReading['version'] } | undefined {
  const limit = limiting(polled, report);
  if (limit?.limitDirectory != null) {
    return { directory: limit.limitDirectory, version: limit.version };
  }
  if (report.limitBytes !== null) return undefined;
  const located = polled.limits.layout.hierarchies;
  const own = located.find(({ version }) => version === 'cgroup-v2') ?? located[0];
  return own === undefined ? undefined : { directory: own.directories[0], version: own.version };
}

/**
 * The pressure figures of one poll: the watched v2 cgroup's PSI; where a limit has no PSI of its
 * own, its working set against `workingSetThreshold`; the host's PSI only where there is no
 * limit; and the headroom when nothing is left (at most `headroomThreshold` of the total).
 */
function figures(polled: Polled, report: MemoryReport, watched: Watched): Figure[] {
  const found: Figure[] = [];
  const cgroup = watchedCgroup(polled, report);
  let psi = cgroup?.version === 'cgroup-v2' ? readCgroupPressure(cgroup.directory) : undefined;
  const ratio = limiting(polled, report)?.workingSetRatio ?? null;
  if (psi === undefined && ratio !== null) {
    found.push({
      key: 'working-set',
      source: 'working-set',
      level: null,
      value: ratio,
      above: ratio >= watched.workingSetThreshold,
    });
  } else if (psi === undefined && report.limitBytes === null) {
    psi = readHostPressure(watched.fsRoot);
  }
  for (const level of ['some', 'full'] as const) {
    const value = psi?.[level];
    if (value === undefined) continue;
    found.push({
      key: level,
      source: 'psi',
      level,
      value,
      above: value >= watched.pressureThreshold,
    });
  }
  if (report.availableBytes !== null) {
    const value = report.availableBytes;
    // The kernel reclaims before usage meets the limit: "nothing left" is a margin, not 0.
    const above = value <= watched.headroomThreshold * report.totalBytes;
    found.push({ key: 'headroom', source: 'headroom', level: null, value, above });
  }
  return found;
}

/** Compares each poll with the one before and says what changed. */
export class Changes {
  #previous: Polled;
  /** Whether the last poll was skipped for a limit file that was gone. */
  #skippedGone = false;
  readonly #above = new Set<Figure['key']>();
  #counts: { directory: string; counts: EventCounts } | undefined;
  readonly #watched: Watched;

  constructor(first: Polled, watched: Watched) {
    this.#watched = watched;
    this.#previous = first;
    // The state at the start is the baseline: only changes from it are told.
    if (first.report !== null) this.#diff(first, first.report);
  }

  /** The report of the last poll that was not skipped. */
  current(): MemoryReport | null {
    return this.#previous.report;
  }

  /**
   * The events of one poll; none when the poll is skipped: nothing known, the limit's file
   * garbled (for as long as it stays so), or gone (for one poll: a cgroup being replaced; then
   * the limit is believed removed).
   */
  next(polled: Polled): MemoryEvent[] {
    const { report } = polled;
    const before = this.#previous.report;
    const origin = before?.limitOrigin;
    const state =
      before?.limitSource?.startsWith('cgroup') === true && origin
        ? originState(polled, origin)
        : 'whole';
    if (report === null || state === 'garbled' || (state === 'gone' && !this.#skippedGone)) {
      this.#skippedGone = state === 'gone';
      log('skipping a poll: %s', report === null ? 'nothing known' : `${origin} is ${state}`);
      return [];
    }
    this.#skippedGone = false;
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
    if (!this.#watched.pressure) return events;
    const seen = new Set<Figure['key']>();
    for (const { key, source, level, value, above } of figures(polled, report, this.#watched)) {
      seen.add(key);
      if (above && !this.#above.has(key)) {
        events.push({ type: 'pressure', source, level, value, report });
      }
      if (above) this.#above.add(key);
      else this.#above.delete(key);
    }
    for (const key of this.#above) if (!seen.has(key)) this.#above.delete(key);
    const cgroup = watchedCgroup(polled, report);
    // v1 counts hits of a limit only (`failcnt`): without one, there is nothing to count.
    const counted = cgroup?.version === 'cgroup-v2' || report.limitBytes !== null;
    const counts =
      cgroup === undefined || !counted ? undefined : readCounters(cgroup.directory, cgroup.version);
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
