import { builtin } from '../core/builtins.js';
import { parseInteger } from '../core/numbers.js';
import { readText } from './files.js';
import type { CgroupVersion } from './mounts.js';

const { join } = builtin('node:path');

/** The `avg10` figures of a PSI file, in percent; a level the file lacks is `undefined`. */
export interface Pressure {
  some: number | undefined;
  full: number | undefined;
}

/** The counters a watch reports: v2 `memory.events`; v1 `memory.failcnt` and `oom_kill`. */
export interface EventCounts {
  /** Times usage went over `memory.high` and was throttled (v2 only; 0 on v1). */
  high: number;
  /** Times usage was about to go over the limit: v2 `max`, v1 `memory.failcnt`. */
  max: number;
  /** Times the cgroup ran out of memory (v2 only; 0 on v1). */
  oom: number;
  /** Processes the OOM killer killed: v2 `oom_kill`, v1 `memory.oom_control`'s `oom_kill`. */
  oom_kill: number;
}

/** The counters of {@link EventCounts}, in the order they are reported. */
export const EVENT_KEYS = ['high', 'max', 'oom', 'oom_kill'] as const;

const AVG10 = /^(some|full) avg10=(\d+(?:\.\d+)?) /;

/** Parses a PSI file (`some avg10=0.00 avg60=… total=…` and `full …`); `undefined` when it has neither line. */
export function parsePressure(text: string | undefined): Pressure | undefined {
  if (text === undefined) return undefined;
  const pressure: Pressure = { some: undefined, full: undefined };
  for (const line of text.split('\n')) {
    const match = AVG10.exec(line);
    if (match?.[1] === 'some' || match?.[1] === 'full') pressure[match[1]] = Number(match[2]);
  }
  return pressure.some === undefined && pressure.full === undefined ? undefined : pressure;
}

/** The `key value` lines of a flat keyed file (`memory.events`, `memory.oom_control`). */
function keyed(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, value, extra] = line.trim().split(/\s+/);
    const count = parseInteger(value ?? '');
    if (key !== undefined && count !== undefined && extra === undefined) values.set(key, count);
  }
  return values;
}

/** Parses v2 `memory.events`; `undefined` unless every counter of {@link EVENT_KEYS} is there. */
export function parseEvents(text: string | undefined): EventCounts | undefined {
  if (text === undefined) return undefined;
  const values = keyed(text);
  const counts = {} as EventCounts;
  for (const key of EVENT_KEYS) {
    const value = values.get(key);
    if (value === undefined) return undefined;
    counts[key] = value;
  }
  return counts;
}

/**
 * Parses v1 `memory.failcnt` and `memory.oom_control` (`oom_kill N`, kernel 4.13+): `max` and
 * `oom_kill`, the others 0; `undefined` unless `failcnt` is a count. Without an `oom_kill` line,
 * it is 0.
 */
export function parseV1Counters(
  failcnt: string | undefined,
  oomControl: string | undefined,
): EventCounts | undefined {
  const max = parseInteger(failcnt ?? '');
  if (max === undefined) return undefined;
  const oomKill = oomControl === undefined ? undefined : keyed(oomControl).get('oom_kill');
  return { high: 0, max, oom: 0, oom_kill: oomKill ?? 0 };
}

/** A file's text, `undefined` where it is absent or unreadable: a counter either way unknown. */
const textOf = (file: string): string | undefined => readText(file) ?? undefined;

/** A cgroup's counters: v2 `memory.events`; v1 `memory.failcnt` and `memory.oom_control`. */
export function readCounters(directory: string, version: CgroupVersion): EventCounts | undefined {
  return version === 'cgroup-v2'
    ? parseEvents(textOf(join(directory, 'memory.events')))
    : parseV1Counters(
        textOf(join(directory, 'memory.failcnt')),
        textOf(join(directory, 'memory.oom_control')),
      );
}

/** A v2 cgroup's own PSI (`memory.pressure`); `undefined` where PSI is off or the file unreadable. */
export function readCgroupPressure(directory: string): Pressure | undefined {
  return parsePressure(textOf(join(directory, 'memory.pressure')));
}

/** The whole machine's PSI (`/proc/pressure/memory` below `fsRoot`). */
export function readHostPressure(fsRoot: string): Pressure | undefined {
  return parsePressure(textOf(join(fsRoot, 'proc/pressure/memory')));
}
