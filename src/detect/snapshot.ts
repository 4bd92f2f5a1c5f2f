import { builtin } from '../core/builtins.js';
import { logger } from '../core/diagnostics.js';
import { bytesOf, unknown } from '../core/reading.js';
import type { LimitSource, MemoryReport } from '../core/types.js';
import { readText } from '../sources/files.js';
import { type CgroupLayout, locateCgroups } from '../sources/mounts.js';
import type { ResolvedDetect } from './detectOptions.js';
import { type HostMemory, hostMemory } from './host.js';
import { type Limits, readLimits } from './limits.js';

const log = logger('detect');
const { join } = builtin('node:path');

/**
 * Gathers host RAM and the limits into one report: the tightest limit below host RAM wins; with
 * host RAM unknown, the tightest limit is the total. `null` when nothing at all is known.
 */
export function combine(host: HostMemory | null, limits: Limits): MemoryReport | null {
  let best: { bytes: number; source: LimitSource; origin: string } | undefined;
  for (const { source, reading } of limits.candidates) {
    if (reading.kind !== 'bytes' || reading.bytes === 0) continue;
    if (host !== null && reading.bytes >= host.bytes) continue;
    if (best === undefined || reading.bytes < best.bytes) {
      best = { bytes: reading.bytes, source, origin: reading.origin };
    }
  }
  const totalBytes = best?.bytes ?? host?.bytes;
  if (totalBytes === undefined) return null;
  if (best !== undefined) log('limit %d bytes from %s (%s)', best.bytes, best.source, best.origin);
  const hostAvailable =
    bytesOf(host?.available ?? limits.hostAvailable) ?? bytesOf(limits.hostAvailable);
  const known = [hostAvailable, bytesOf(limits.headroom)].filter((value) => value !== null);
  return {
    hostTotalBytes: host?.bytes ?? null,
    detectionMethod: host?.method ?? null,
    limitBytes: best?.bytes ?? null,
    limitSource: best?.source ?? null,
    limitOrigin: best?.origin ?? null,
    totalBytes,
    availableBytes: known.length === 0 ? null : Math.min(totalBytes, ...known),
  };
}

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
