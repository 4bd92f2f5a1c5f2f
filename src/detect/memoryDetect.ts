import { checkOptions } from '../core/options.js';
import type { MemoryReport } from '../core/types.js';
import { DETECT_FIELDS, type DetectOptions, resolveDetect } from './detectOptions.js';
import { hostMemory, hostMemorySync } from './host.js';
import { cachedLimits } from './limits.js';
import { combine } from './snapshot.js';

export type { DetectionMethod, LimitSource, MemoryReport } from '../core/types.js';
export type { SystemInformationLike } from '../sources/host.js';
export type { DetectOptions, HostProbes } from './detectOptions.js';

/**
 * Detects how much memory this process may use: host RAM (systeminformation, else `os.totalmem()`)
 * capped by cgroup v2/v1 and Slurm limits.
 *
 * Host RAM is kept once systeminformation gave it; limits and available memory are read at most
 * once per `ttlMs`. A failed or timed-out systeminformation is asked again after `ttlMs`, then
 * after twice as long, up to once a minute. Concurrent calls share one detection. When host RAM
 * cannot be read but a limit can, the limit is the total.
 *
 * @param options - Where and how to read; see {@link DetectOptions}.
 * @returns The report, or `null` only when neither host RAM nor any limit is known. A failing source never rejects.
 * @throws TypeError or RangeError, for an unknown option or one of the wrong type or range.
 * @example
 * ```ts
 * const report = await detectMemory();
 * report?.totalBytes; // what this process may use, in bytes
 * report?.limitSource; // 'cgroup-v2' inside a limited pod, null on a laptop
 * ```
 */
export async function detectMemory(options?: DetectOptions | null): Promise<MemoryReport | null> {
  const resolved = resolveDetect(checkOptions<DetectOptions>(options, DETECT_FIELDS));
  const host = await hostMemory(resolved);
  return combine(host, cachedLimits(resolved));
}

/**
 * Like {@link detectMemory}, synchronously: host RAM comes from `os.totalmem()` only, since
 * systeminformation is async.
 *
 * @param options - Where and how to read; `timeoutMs` does not apply.
 * @returns The report, or `null` when neither `os.totalmem()` nor any limit gives a figure.
 * @throws TypeError or RangeError, for an unknown option or one of the wrong type or range.
 * @example
 * ```ts
 * const report = detectMemorySync();
 * report?.detectionMethod; // 'os'
 * ```
 */
export function detectMemorySync(options?: DetectOptions | null): MemoryReport | null {
  const resolved = resolveDetect(checkOptions<DetectOptions>(options, DETECT_FIELDS));
  return combine(hostMemorySync(resolved), cachedLimits(resolved));
}

/**
 * The memory this process may use, in bytes: `totalBytes` of {@link detectMemory}. The
 * original's function, now capped by container and scheduler limits.
 *
 * @param options - Where and how to read; see {@link DetectOptions}.
 * @returns Bytes, or `null` when neither host RAM nor any limit is known.
 * @throws TypeError or RangeError, for an unknown option or one of the wrong type or range.
 * @example
 * ```ts
 * const bytes = await detectTotalSystemMemory();
 * ```
 */
export async function detectTotalSystemMemory(
  options?: DetectOptions | null,
): Promise<number | null> {
  return (await detectMemory(options))?.totalBytes ?? null;
}
