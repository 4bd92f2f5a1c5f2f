import { unknown } from '../core/reading.js';
import type { MemoryReport } from '../core/types.js';
import type { ResolvedDetect } from './detectOptions.js';
import { hostMemory } from './host.js';
import { type Limits, readLimits } from './limits.js';
import { combine } from './snapshot.js';

/** What one poll of a watch read: the report, and the limits it was made from. */
export interface Polled {
  report: MemoryReport | null;
  limits: Limits;
}

/**
 * Starts the polls of a watch (options already checked): host RAM is detected once; each poll
 * reads the limits again (the mount table only where the process moved to another cgroup).
 */
export async function memoryPoller(options: ResolvedDetect): Promise<() => Polled> {
  const host = await hostMemory(options);
  // systeminformation's available figure would be stale: each poll takes the current one.
  const fixed = host === null ? null : { ...host, available: unknown('stale between polls') };
  return (): Polled => {
    const limits = readLimits(options);
    return { report: combine(fixed, limits), limits };
  };
}
