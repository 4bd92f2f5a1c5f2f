import { logger, warnOnce } from '../core/diagnostics.js';
import { bytesOf } from '../core/reading.js';
import type { LimitSource, MemoryReport } from '../core/types.js';
import { gb } from '../core/units.js';
import type { HostMemory } from './host.js';
import type { Limits } from './limits.js';

const log = logger('detect');

/**
 * The `--max-old-space-size` that fits a total: the MiB the default threshold (75%) leaves
 * outside the fit's buffers.
 */
function maxOldSpaceSizeMib(totalBytes: number): number {
  return Math.floor((totalBytes - 0.75 * totalBytes) / 2 ** 20);
}

/** Below this heap, in MiB, Node.js itself barely starts: no `--max-old-space-size` is advice. */
const MIN_HEAP_MIB = 16;

/** What to do about a heap that may outgrow `totalBytes`: the flag that fits, or more memory. */
export function heapAdvice(totalBytes: number): string {
  const mib = maxOldSpaceSizeMib(totalBytes);
  return mib < MIN_HEAP_MIB
    ? `no --max-old-space-size fits: ${mib} MiB is too little for Node.js itself; give the job more memory`
    : `start node with --max-old-space-size=${mib}`;
}

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
  const unknowns = limits.candidates.filter(({ reading }) => reading.kind === 'unknown');
  if (unknowns.length > 0) {
    // A limit that is set but cannot be read may be tighter than any figure known: say so.
    const why = unknowns.map(({ reading }) => (reading.kind === 'unknown' ? reading.reason : ''));
    const used =
      totalBytes === undefined ? 'nothing is known' : `${gb(totalBytes)} is the total used`;
    warnOnce(
      'NLSQ_MEMORY_LIMIT_UNKNOWN',
      `A memory limit could not be read (${why.join('; ')}): ${used}. Give totalMemoryBytes if the job has a tighter limit`,
    );
  }
  if (totalBytes === undefined) return null;
  if (best !== undefined) log('limit %d bytes from %s (%s)', best.bytes, best.source, best.origin);
  const heapLimitBytes = bytesOf(limits.heapLimit);
  if (heapLimitBytes !== null && heapLimitBytes > totalBytes) {
    // Node sizes its heap from physical RAM: a heap that grows past the limit is OOM-killed.
    warnOnce(
      'NLSQ_MEMORY_HEAP_ABOVE_LIMIT',
      `The V8 heap may grow to ${gb(heapLimitBytes)}, above the ${gb(totalBytes)} this process may use: ${heapAdvice(totalBytes)}`,
    );
  }
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
    heapLimitBytes,
  };
}
