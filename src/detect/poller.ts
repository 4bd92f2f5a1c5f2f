import { builtin } from '../core/builtins.js';
import { unknown } from '../core/reading.js';
import type { MemoryReport } from '../core/types.js';
import { readText } from '../sources/files.js';
import { type CgroupLayout, locateCgroups } from '../sources/mounts.js';
import type { ResolvedDetect } from './detectOptions.js';
import { hostMemory } from './host.js';
import { type Limits, readLimits } from './limits.js';
import { combine } from './snapshot.js';

const { join } = builtin('node:path');

/** What one poll of a watch read: the report, and the limits it was made from. */
export interface Polled {
  report: MemoryReport | null;
  limits: Limits;
}

/**
 * Starts the polls of a watch (options already checked): host RAM is detected once; each poll
 * re-reads `/proc/self/cgroup` and the located cgroup files, and the mount table only when the
 * process has moved to another cgroup (as it must before its cgroup can be removed).
 */
export async function memoryPoller(options: ResolvedDetect): Promise<() => Polled> {
  const host = await hostMemory(options);
  // systeminformation's available figure would be stale: each poll takes the current one.
  const fixed = host === null ? null : { ...host, available: unknown('stale between polls') };
  let layout: CgroupLayout = locateCgroups(readText, options.fsRoot);
  return (): Polled => {
    const current = readText(join(options.fsRoot, 'proc/self/cgroup'));
    if (current !== layout.procSelfCgroup) layout = locateCgroups(readText, options.fsRoot);
    const limits = readLimits(options, layout);
    return { report: combine(fixed, limits), limits };
  };
}
