import { builtin } from './builtins.js';
import { parseInteger } from './parse.js';

const { join, posix } = builtin('node:path');

/** Reads a file as text, or `undefined` when it cannot be read. */
export type ReadText = (file: string) => string | undefined;

/** The tightest memory limit found in one cgroup hierarchy. */
export interface CgroupLimit {
  /** The limit in bytes as read; sentinels and limits above host RAM are filtered by the caller. */
  bytes: number;
  version: 'cgroup-v2' | 'cgroup-v1';
  /** The file that set the limit. */
  file: string;
}

/** What the cgroup files tell about this process's memory. */
export interface CgroupReading {
  /** Whether a memory hierarchy of this process was located (then Node's own reading adds nothing). */
  resolved: boolean;
  /** The tightest limit of each hierarchy that sets one. */
  limits: CgroupLimit[];
  /** The smallest headroom (limit minus working set) of every limited directory on the walks, when any is readable. */
  headroomBytes: number | null;
}

/** What differs between cgroup v2 and v1 for memory. */
interface Version {
  name: CgroupLimit['version'];
  /** Whether a mountinfo line mounts this hierarchy. */
  mounts: (fsType: string, superOptions: string[]) => boolean;
  limitFiles: readonly string[];
  usageFile: string;
  inactiveKey: string;
  /** The limit of the whole chain when one file tells it (`Infinity`: none can be set), else `undefined`. */
  chainLimit: (
    read: ReadText,
    leaf: string,
    top: string,
  ) => { bytes: number; file: string } | undefined;
}

const V2: Version = {
  name: 'cgroup-v2',
  mounts: (fsType) => fsType === 'cgroup2',
  limitFiles: ['memory.max', 'memory.high'],
  usageFile: 'memory.current',
  inactiveKey: 'inactive_file',
  // A v2 tree without the memory controller (a hybrid host's unified tree) limits nothing.
  chainLimit: (read, _leaf, top) => {
    const file = join(top, 'cgroup.controllers');
    const controllers = read(file);
    const none = controllers !== undefined && !controllers.split(/\s+/).includes('memory');
    return none ? { bytes: Number.POSITIVE_INFINITY, file } : undefined;
  },
};

const V1: Version = {
  name: 'cgroup-v1',
  mounts: (fsType, options) => fsType === 'cgroup' && options.includes('memory'),
  limitFiles: ['memory.limit_in_bytes'],
  usageFile: 'memory.usage_in_bytes',
  inactiveKey: 'total_inactive_file',
  // hierarchical_memory_limit is the smallest limit of the cgroup and all its ancestors,
  // including those above the mount that a container cannot see.
  chainLimit: (read, leaf) => {
    const file = join(leaf, 'memory.stat');
    const bytes = statValue(read(file), 'hierarchical_memory_limit');
    return bytes === undefined ? undefined : { bytes, file };
  },
};

const VERSIONS: Record<CgroupLimit['version'], Version> = { 'cgroup-v2': V2, 'cgroup-v1': V1 };

interface Hierarchy {
  version: Version;
  /** The cgroup path of this process in `/proc/self/cgroup`. */
  path: string;
}

/** A real limit: the v1 "unlimited" values (LONG_MAX rounded to a page) are all past 2**53. */
function isLimit(bytes: number | undefined): bytes is number {
  return bytes !== undefined && Number.isSafeInteger(bytes) && bytes > 0;
}

/** The process's memory hierarchies, from the lines `ID:controllers:path` of `/proc/self/cgroup`. */
function hierarchies(procSelfCgroup: string): Hierarchy[] {
  const found: Hierarchy[] = [];
  for (const line of procSelfCgroup.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const id = line.slice(0, first);
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1).trim();
    if (id === '0' && controllers === '') found.push({ version: V2, path });
    else if (controllers.split(',').includes('memory')) found.push({ version: V1, path });
  }
  return found;
}

/** Undoes mountinfo's octal escapes (`\040` for a space). */
function unescapeMountPath(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(Number.parseInt(octal, 8)),
  );
}

interface Mount {
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

/** The mounts of `/proc/self/mountinfo`: root within the hierarchy, mount point, type, super options. */
function mounts(mountinfo: string): Mount[] {
  const found: Mount[] = [];
  for (const line of mountinfo.split('\n')) {
    const separator = line.indexOf(' - ');
    if (separator < 0) continue;
    const fields = line.slice(0, separator).split(' ');
    const [fsType = '', , superOptions = ''] = line.slice(separator + 3).split(' ');
    const root = fields[3];
    const mountPoint = fields[4];
    if (root === undefined || mountPoint === undefined) continue;
    found.push({
      root: unescapeMountPath(root),
      mountPoint: unescapeMountPath(mountPoint),
      fsType,
      superOptions: superOptions.split(','),
    });
  }
  return found;
}

/** Whether `root` lies outside this cgroup namespace (`/..`), so that no directory below it is known. */
function outsideNamespace(root: string): boolean {
  return root === '/..' || root.startsWith('/../');
}

/** The number of path segments of a cgroup path: `/` has 0. */
function depth(path: string): number {
  return path.split('/').filter(Boolean).length;
}

/**
 * Orders the mounts that hold the process's cgroup: the one that shows the most ancestors (the
 * shallowest root) first; on a tie the one under `/sys/fs/cgroup`, then by mount point. The line
 * order of mountinfo never matters.
 */
function compareMounts(a: Mount, b: Mount): number {
  const underSys = (mount: Mount): number =>
    mount.mountPoint.startsWith('/sys/fs/cgroup') ? 0 : 1;
  return (
    depth(a.root) - depth(b.root) ||
    underSys(a) - underSys(b) ||
    (a.mountPoint < b.mountPoint ? -1 : a.mountPoint > b.mountPoint ? 1 : 0)
  );
}

/**
 * The directories from the process's cgroup up to the mount point, innermost first,
 * or `undefined` when the path escapes the mount or no mount holds it.
 */
function cgroupDirectories(hierarchy: Hierarchy, mountTable: Mount[]): string[] | undefined {
  if (!hierarchy.path.startsWith('/') || hierarchy.path.split('/').includes('..')) return undefined;
  const holding = mountTable.filter((mount) => {
    if (!hierarchy.version.mounts(mount.fsType, mount.superOptions)) return false;
    if (!mount.root.startsWith('/') || outsideNamespace(mount.root)) return false;
    const relative = posix.relative(mount.root, hierarchy.path);
    return relative !== '..' && !relative.startsWith('../');
  });
  const [mount] = holding.sort(compareMounts);
  if (mount === undefined) return undefined;
  const directories = [mount.mountPoint];
  for (const segment of posix.relative(mount.root, hierarchy.path).split('/').filter(Boolean)) {
    directories.unshift(posix.join(directories[0] ?? '', segment));
  }
  return directories;
}

/** The value of `key` in a `memory.stat` file, when present. */
function statValue(stat: string | undefined, key: string): number | undefined {
  if (stat === undefined) return undefined;
  const match = new RegExp(`^${key} (\\d+)$`, 'm').exec(stat);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** Usage minus inactive file pages in `directory`, or `null` when usage is unreadable. */
function workingSet(read: ReadText, directory: string, version: Version): number | null {
  const usage = parseInteger(read(join(directory, version.usageFile)) ?? '');
  if (usage === undefined) return null;
  const inactive = statValue(read(join(directory, 'memory.stat')), version.inactiveKey) ?? 0;
  return Math.max(0, usage - inactive);
}

interface HierarchyReading {
  limit: CgroupLimit | undefined;
  /** The smallest limit minus working set over the limited directories of the walk. */
  headroomBytes: number | null;
}

/** The smaller of two optional figures. */
function smaller(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}

/**
 * The tightest limit of one hierarchy, walking from the process's cgroup up to the mount point,
 * and the least headroom of any limited directory on the way: a fuller ancestor is never hidden
 * by a roomier child.
 */
function readHierarchy(
  read: ReadText,
  version: Version,
  directories: readonly [string, ...string[]],
): HierarchyReading {
  const leaf = directories[0];
  const top = directories.at(-1) ?? leaf;
  const chain = version.chainLimit(read, leaf, top);
  if (chain !== undefined && !isLimit(chain.bytes))
    return { limit: undefined, headroomBytes: null };
  let best: { bytes: number; file: string } | undefined;
  let headroomBytes: number | null = null;
  const limited = (bytes: number, file: string, directory: string): void => {
    if (best === undefined || bytes < best.bytes) best = { bytes, file };
    const used = workingSet(read, directory, version);
    if (used !== null) headroomBytes = smaller(headroomBytes, Math.max(0, bytes - used));
  };
  for (const directory of directories) {
    let tightest: { bytes: number; file: string } | undefined;
    for (const name of version.limitFiles) {
      const file = join(directory, name);
      const bytes = parseInteger(read(file) ?? ''); // `max` parses as no number
      if (isLimit(bytes) && (tightest === undefined || bytes < tightest.bytes)) {
        tightest = { bytes, file };
      }
    }
    if (tightest !== undefined) limited(tightest.bytes, tightest.file, directory);
  }
  // Last, so that on a tie the directory that sets the limit is named. Its headroom can only be
  // told from the leaf's usage, the most that is visible of the limited ancestor's.
  if (chain !== undefined && (best === undefined || chain.bytes < best.bytes)) {
    limited(chain.bytes, chain.file, leaf);
  }
  const limit = best === undefined ? undefined : { ...best, version: version.name };
  return { limit, headroomBytes };
}

/** A memory hierarchy of this process, located: its directories from the leaf up to the mount point. */
export interface LocatedHierarchy {
  version: CgroupLimit['version'];
  /** Directories below the root, innermost first. */
  directories: readonly [string, ...string[]];
}

/** Where this process's memory cgroups are: what a watch keeps between reads. */
export interface CgroupLayout {
  /** The text of `/proc/self/cgroup` the layout was made from, or `undefined` when unreadable. */
  procSelfCgroup: string | undefined;
  hierarchies: LocatedHierarchy[];
}

/** Locates this process's memory hierarchies from `/proc/self/cgroup` and `/proc/self/mountinfo` below `root`. */
export function locateCgroups(read: ReadText, root: string): CgroupLayout {
  const procSelfCgroup = read(join(root, 'proc/self/cgroup'));
  const layout: CgroupLayout = { procSelfCgroup, hierarchies: [] };
  const found = procSelfCgroup === undefined ? [] : hierarchies(procSelfCgroup);
  if (found.length === 0) return layout;
  const mountinfo = read(join(root, 'proc/self/mountinfo'));
  if (mountinfo === undefined) return layout;
  const mountTable = mounts(mountinfo);
  for (const hierarchy of found) {
    const [leaf, ...rest] =
      cgroupDirectories(hierarchy, mountTable)?.map((directory) => join(root, directory)) ?? [];
    if (leaf !== undefined) {
      layout.hierarchies.push({ version: hierarchy.version.name, directories: [leaf, ...rest] });
    }
  }
  return layout;
}

/**
 * The tightest memory limit of each located hierarchy, and the least headroom under any of
 * them: only the limit, usage and stat files are read, not the mount table.
 */
export function readCgroups(read: ReadText, layout: CgroupLayout): CgroupReading {
  const reading: CgroupReading = {
    resolved: layout.hierarchies.length > 0,
    limits: [],
    headroomBytes: null,
  };
  for (const { version, directories } of layout.hierarchies) {
    const { limit, headroomBytes } = readHierarchy(read, VERSIONS[version], directories);
    if (limit !== undefined) reading.limits.push(limit);
    reading.headroomBytes = smaller(reading.headroomBytes, headroomBytes);
  }
  return reading;
}
