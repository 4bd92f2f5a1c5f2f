import { builtin } from '../core/builtins.js';
import { readText } from '../sources/files.js';
import { type CgroupLayout, locateCgroups } from '../sources/mounts.js';

const { join } = builtin('node:path');

/** The layouts located, by root: a few roots at most outside tests. */
const located = new Map<string, CgroupLayout>();
const ROOTS_KEPT = 8;

/**
 * Where this process's memory cgroups are below `fsRoot`. `/proc/self/cgroup` is read each time;
 * the mount table and the controllers only when that text changed (the process moved to another
 * cgroup, as it must before its cgroup can be removed), or while nothing was located: a mount
 * table that could not be read once is read again.
 */
export function currentLayout(fsRoot: string): CgroupLayout {
  const procSelfCgroup = readText(join(fsRoot, 'proc/self/cgroup')) ?? undefined;
  const known = located.get(fsRoot);
  if (procSelfCgroup !== undefined && known?.procSelfCgroup === procSelfCgroup) return known;
  const layout = locateCgroups(readText, fsRoot, procSelfCgroup);
  located.delete(fsRoot);
  if (layout.hierarchies.length === 0) return layout;
  if (located.size >= ROOTS_KEPT) located.delete(located.keys().next().value as string);
  located.set(fsRoot, layout);
  return layout;
}
