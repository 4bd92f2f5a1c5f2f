import { builtin } from './builtins.js';
import type { CgroupLayout } from './cgroup.js';
import { readText } from './files.js';
import { parseInteger } from './parse.js';

const { join } = builtin('node:path');

/** The `avg10` figures of a PSI file, in percent; a level the file lacks is `undefined`. */
export interface Pressure {
  some: number | undefined;
  full: number | undefined;
}

/** The v2 `memory.events` counters a watch reports. */
export interface EventCounts {
  /** Times usage went over `memory.high` and was throttled. */
  high: number;
  /** Times usage was about to go over `memory.max`. */
  max: number;
  /** Times the cgroup ran out of memory. */
  oom: number;
  /** Processes the OOM killer killed. */
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

/** Parses `memory.events`; `undefined` unless every counter of {@link EVENT_KEYS} is there. */
export function parseEvents(text: string | undefined): EventCounts | undefined {
  if (text === undefined) return undefined;
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [key, value, extra] = line.trim().split(/\s+/);
    const count = parseInteger(value ?? '');
    if (key !== undefined && count !== undefined && extra === undefined) values.set(key, count);
  }
  const counts = {} as EventCounts;
  for (const key of EVENT_KEYS) {
    const value = values.get(key);
    if (value === undefined) return undefined;
    counts[key] = value;
  }
  return counts;
}

/**
 * The v2 cgroup directory a watch reads pressure and events from: the one whose file set the
 * limit, else the process's own v2 cgroup; `undefined` without a v2 hierarchy.
 */
export function watchedDirectory(
  layout: CgroupLayout,
  limitOrigin: string | null,
): string | undefined {
  const v2 = layout.hierarchies.find((hierarchy) => hierarchy.version === 'cgroup-v2');
  if (v2 === undefined) return undefined;
  const limiting = v2.directories.find((directory) =>
    limitOrigin?.startsWith(join(directory, 'memory.')),
  );
  return limiting ?? v2.directories[0];
}

/** Memory pressure: the cgroup's `memory.pressure`, else the host's `/proc/pressure/memory`. */
export function readPressure(fsRoot: string, directory: string | undefined): Pressure | undefined {
  const own =
    directory === undefined
      ? undefined
      : parsePressure(readText(join(directory, 'memory.pressure')));
  return own ?? parsePressure(readText(join(fsRoot, 'proc/pressure/memory')));
}

/** The cgroup's `memory.events` counters, when readable. */
export function readEvents(directory: string | undefined): EventCounts | undefined {
  return directory === undefined
    ? undefined
    : parseEvents(readText(join(directory, 'memory.events')));
}
