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
  /**
   * A limit file on the walk that is set but could not be read (garbled, no permission), where
   * `limit` is still a figure: the real limit may be tighter. `null` where there is none, or
   * where v1's figure for the whole chain covers every file.
   */
  unreadLimit: Reading | null;
  /** The directory whose file sets the limit, or `null` without one. */
  limitDirectory: string | null;
  /** The highest working set / limit of any limited directory on the walk, where usage is known. */
  workingSetRatio: number | null;
  /** What each limit file read held: a watch tells a garbled file from a gone one without reading again. */
  files: ReadonlyMap<string, Reading>;
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
function limitOf(text: string | null, file: string): Reading {
  const reading = fromText(text, file);
  return reading.kind === 'bytes' && reading.bytes === 0 ? unlimited(file) : reading;
}

/**
 * Reads one located hierarchy: the tightest limit from the process's cgroup up to the mount
 * point, and the least headroom of any limited directory on the way, so that a fuller ancestor
 * is never hidden by a roomier child. Where a limited directory's usage cannot be read, the
 * nearest readable usage below it (at most the leaf's) is the best visible bound. A missing
 * limit file sets nothing (the root cgroup has none); a garbled one is unknown. Each file is
 * read once, and usage only where a limit needs it.
 */
export function readHierarchy(read: ReadText, located: LocatedHierarchy): HierarchyReading {
  const version = VERSIONS[located.version];
  const { directories } = located;
  const leaf = directories[0];
  const stats = new Map<string, string | undefined>();
  const statOf = (directory: string): string | undefined => {
    if (!stats.has(directory))
      stats.set(directory, read(join(directory, 'memory.stat')) ?? undefined);
    return stats.get(directory);
  };
  const files = new Map<string, Reading>();
  const limits: { reading: Reading; directory: string }[] = [];
  // v1: the kernel's own figure for the whole chain, read first. When it says none, no directory
  // sets one, and their files need no reading.
  let chain: Reading | undefined;
  if (version.chainKey !== undefined) {
    const value = statValue(statOf(leaf), version.chainKey);
    if (value !== undefined) {
      chain = limitOf(String(value), join(leaf, 'memory.stat'));
      files.set(join(leaf, 'memory.stat'), chain);
    }
  }
  if (chain?.kind !== 'unlimited') {
    for (const directory of directories) {
      for (const name of version.limitFiles) {
        const file = join(directory, name);
        const text = read(file);
        if (text === undefined) continue;
        const reading = limitOf(text, file);
        files.set(file, reading);
        limits.push({ reading, directory });
      }
    }
  }
  // Last, so that on a tie the directory whose file sets the limit is named.
  if (chain !== undefined) limits.push({ reading: chain, directory: leaf });
  const limit = smallest(
    limits.map((entry) => entry.reading),
    // The root cgroup has no limit file: nothing on the walk sets one.
    `no memory limit file from ${leaf} up`,
  );
  const headrooms: Reading[] = [];
  let workingSetRatio: number | null = null;
  const workingSets = new Map<string, number | undefined>();
  const workingSetOf = (directory: string): number | undefined => {
    if (!workingSets.has(directory)) {
      const usage = parseInteger(read(join(directory, version.usageFile)) ?? '');
      // Past 2 ** 53 no figure is exact: such an inactive_file is unknown, and nothing is taken off.
      const stated = statValue(statOf(directory), version.inactiveKey) ?? 0;
      const inactive = Number.isSafeInteger(stated) ? stated : 0;
      workingSets.set(directory, usage === undefined ? undefined : Math.max(0, usage - inactive));
    }
    return workingSets.get(directory);
  };
  for (const [depth, directory] of directories.entries()) {
    for (const { reading, directory: setBy } of limits) {
      if (setBy !== directory || reading.kind !== 'bytes') continue;
      // Its own usage, else the nearest below: what is visible of it.
      let used: number | undefined;
      for (let below = depth; below >= 0 && used === undefined; below--) {
        used = workingSetOf(directories[below] ?? leaf);
      }
      if (used === undefined) {
        headrooms.push(unknown(`no usage readable at or below ${directory}`));
        continue;
      }
      headrooms.push(bytes(Math.max(0, reading.bytes - used), directory));
      workingSetRatio = Math.max(workingSetRatio ?? 0, used / reading.bytes);
    }
  }
  const unread = limits.find((entry) => entry.reading.kind === 'unknown')?.reading;
  const covered = chain?.kind === 'bytes';
  const unreadLimit = limit.kind === 'bytes' && !covered ? (unread ?? null) : null;
  const limitDirectory =
    limit.kind === 'bytes'
      ? (limits.find((entry) => entry.reading === limit)?.directory ?? null)
      : null;
  return {
    version: located.version,
    limit,
    unreadLimit,
    headroom: smallest(headrooms, leaf),
    limitDirectory,
    workingSetRatio,
    files,
  };
}
