import { builtin } from '../core/builtins.js';
import { parseInteger } from '../core/numbers.js';
import { bytes, fromText, type Reading, smallest, unknown, unlimited } from '../core/reading.js';
import type { CgroupVersion, LocatedHierarchy, ReadText } from './mounts.js';

const { join } = builtin('node:path');

/** What one memory hierarchy tells about this process's memory. */
export interface HierarchyReading {
  version: CgroupVersion;
  /** The tightest limit from the process's cgroup up to the mount point; its origin is the file. */
  limit: Reading;
  /** The least headroom (limit minus working set) of any limited directory on the walk. */
  headroom: Reading;
  /** The directory whose file sets the limit, or `null` without one. */
  limitDirectory: string | null;
  /** The highest working set / limit of any limited directory on the walk, where usage is known. */
  workingSetRatio: number | null;
}

/** What differs between cgroup v2 and v1 for memory. */
interface Version {
  limitFiles: readonly string[];
  usageFile: string;
  inactiveKey: string;
  /** The `memory.stat` key that gives the limit of the whole chain, above the mount too. */
  chainKey: string | undefined;
}

const VERSIONS: Record<CgroupVersion, Version> = {
  'cgroup-v2': {
    limitFiles: ['memory.max', 'memory.high'],
    usageFile: 'memory.current',
    inactiveKey: 'inactive_file',
    chainKey: undefined,
  },
  'cgroup-v1': {
    limitFiles: ['memory.limit_in_bytes'],
    usageFile: 'memory.usage_in_bytes',
    inactiveKey: 'total_inactive_file',
    // The smallest limit of the cgroup and all its ancestors, those a container cannot see too.
    chainKey: 'hierarchical_memory_limit',
  },
};

/** The value of `key` in a `memory.stat` file, when present. */
function statValue(stat: string | undefined, key: string): number | undefined {
  if (stat === undefined) return undefined;
  const match = new RegExp(`^${key} (\\d+)$`, 'm').exec(stat);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** A limit file's reading; 0 is no limit, as everywhere. */
function limitOf(text: string, file: string): Reading {
  const reading = fromText(text, file);
  return reading.kind === 'bytes' && reading.bytes === 0 ? unlimited(file) : reading;
}

/** Usage minus inactive file pages in `directory`, or `undefined` when usage is unreadable. */
function workingSet(read: ReadText, directory: string, version: Version): number | undefined {
  const usage = parseInteger(read(join(directory, version.usageFile)) ?? '');
  if (usage === undefined) return undefined;
  const inactive = statValue(read(join(directory, 'memory.stat')), version.inactiveKey) ?? 0;
  return Math.max(0, usage - inactive);
}

/**
 * Reads one located hierarchy: the tightest limit from the process's cgroup up to the mount
 * point, and the least headroom of any limited directory on the way, so that a fuller ancestor
 * is never hidden by a roomier child. Where a limited directory's usage cannot be read, the
 * nearest readable usage below it (at most the leaf's) is the best visible bound. A missing
 * limit file sets nothing; a garbled one is unknown; none readable at all is unknown.
 */
export function readHierarchy(read: ReadText, located: LocatedHierarchy): HierarchyReading {
  const version = VERSIONS[located.version];
  const { directories } = located;
  const leaf = directories[0];
  const limits: { reading: Reading; directory: string }[] = [];
  for (const directory of directories) {
    for (const name of version.limitFiles) {
      const file = join(directory, name);
      const text = read(file);
      if (text !== undefined) limits.push({ reading: limitOf(text, file), directory });
    }
  }
  if (version.chainKey !== undefined) {
    const file = join(leaf, 'memory.stat');
    const value = statValue(read(file), version.chainKey);
    if (value !== undefined) {
      const chain = limitOf(String(value), file);
      // The kernel's own figure for the chain: when it says none, no directory sets one.
      if (chain.kind === 'unlimited') limits.length = 0;
      // Last, so that on a tie the directory that sets the limit is named.
      limits.push({ reading: chain, directory: leaf });
    }
  }
  if (limits.length === 0) {
    const none = unknown(`no memory limit file readable in ${leaf}`);
    return {
      version: located.version,
      limit: none,
      headroom: none,
      limitDirectory: null,
      workingSetRatio: null,
    };
  }
  const limit = smallest(
    limits.map((entry) => entry.reading),
    leaf,
  );
  const headrooms: Reading[] = [];
  let workingSetRatio: number | null = null;
  let nearest: number | undefined;
  for (const directory of directories) {
    nearest = workingSet(read, directory, version) ?? nearest;
    for (const entry of limits) {
      if (entry.directory !== directory || entry.reading.kind !== 'bytes') continue;
      if (nearest === undefined) {
        headrooms.push(unknown(`no usage readable at or below ${directory}`));
        continue;
      }
      headrooms.push(bytes(Math.max(0, entry.reading.bytes - nearest), directory));
      workingSetRatio = Math.max(workingSetRatio ?? 0, nearest / entry.reading.bytes);
    }
  }
  const limitDirectory =
    limit.kind === 'bytes'
      ? (limits.find((entry) => entry.reading === limit)?.directory ?? null)
      : null;
  return {
    version: located.version,
    limit,
    headroom: smallest(headrooms, leaf),
    limitDirectory,
    workingSetRatio,
  };
}
