import { builtin } from '../core/builtins.js';

const { join, posix } = builtin('node:path');

/** Reads a file as text: `undefined` when it does not exist, `null` when it is there but unreadable. */
export type ReadText = (file: string) => string | undefined | null;

/** Which cgroup version a memory hierarchy is. */
export type CgroupVersion = 'cgroup-v2' | 'cgroup-v1';

/** A memory hierarchy of this process, located: its directories from the leaf up to the mount point. */
export interface LocatedHierarchy {
  version: CgroupVersion;
  /** Directories below the root, innermost first. */
  directories: readonly [string, ...string[]];
}

/** Where this process's memory cgroups are: what a watch keeps between reads. */
export interface CgroupLayout {
  /** The text of `/proc/self/cgroup` the layout was made from, or `undefined` when unreadable. */
  procSelfCgroup: string | undefined;
  /** The hierarchies whose memory controller was located. */
  hierarchies: LocatedHierarchy[];
}

interface Hierarchy {
  version: CgroupVersion;
  /** The cgroup path of this process in `/proc/self/cgroup`. */
  path: string;
}

interface Mount {
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string[];
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
    if (id === '0' && controllers === '') found.push({ version: 'cgroup-v2', path });
    else if (controllers.split(',').includes('memory')) found.push({ version: 'cgroup-v1', path });
  }
  return found;
}

/** Undoes mountinfo's octal escapes (`\040` for a space). */
export function unescapeMountPath(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(Number.parseInt(octal, 8)),
  );
}

/** The mounts of `/proc/self/mountinfo`: root within the hierarchy, mount point, type, super options. */
function mounts(mountinfo: string): Mount[] {
  const found: Mount[] = [];
  for (const line of mountinfo.split('\n')) {
    const separator = line.indexOf(' - cgroup');
    // Only cgroup and cgroup2 mounts matter: the others are not parsed.
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

/** Whether a mount holds the hierarchy of `version`. */
function mountsVersion(mount: Mount, version: CgroupVersion): boolean {
  return version === 'cgroup-v2'
    ? mount.fsType === 'cgroup2'
    : mount.fsType === 'cgroup' && mount.superOptions.includes('memory');
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
    if (!mountsVersion(mount, hierarchy.version)) return false;
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

/**
 * Whether a v2 tree carries the memory controller: its root's `cgroup.controllers` lists
 * `memory`; where that file is unreadable, whether any directory of the walk has memory files.
 * A hybrid host's unified tree often has no memory controller: it locates nothing.
 */
function hasMemoryController(read: ReadText, directories: readonly string[]): boolean {
  const controllers = read(join(directories.at(-1) ?? '', 'cgroup.controllers'));
  if (typeof controllers === 'string') return controllers.split(/\s+/).includes('memory');
  return directories.some(
    (directory) =>
      read(join(directory, 'memory.max')) !== undefined ||
      read(join(directory, 'memory.current')) !== undefined,
  );
}

/**
 * Locates this process's memory hierarchies from `/proc/self/cgroup` (its text, where already
 * read) and `/proc/self/mountinfo` below `root`. A hierarchy counts only when its memory
 * controller is there.
 */
export function locateCgroups(
  read: ReadText,
  root: string,
  procSelfCgroup: string | undefined = read(join(root, 'proc/self/cgroup')) ?? undefined,
): CgroupLayout {
  const layout: CgroupLayout = { procSelfCgroup, hierarchies: [] };
  const found = procSelfCgroup === undefined ? [] : hierarchies(procSelfCgroup);
  if (found.length === 0) return layout;
  const mountinfo = read(join(root, 'proc/self/mountinfo'));
  if (typeof mountinfo !== 'string') return layout;
  const mountTable = mounts(mountinfo);
  for (const hierarchy of found) {
    const [leaf, ...rest] =
      cgroupDirectories(hierarchy, mountTable)?.map((directory) => join(root, directory)) ?? [];
    if (leaf === undefined) continue;
    const directories: [string, ...string[]] = [leaf, ...rest];
    if (hierarchy.version === 'cgroup-v2' && !hasMemoryController(read, directories)) continue;
    layout.hierarchies.push({ version: hierarchy.version, directories });
  }
  return layout;
}
