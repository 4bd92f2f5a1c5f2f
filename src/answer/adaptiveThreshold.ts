import { checkFractionOrOptions } from '../core/options.js';
import type { AdaptiveThreshold } from '../policy/threshold.js';
import { thresholdAsync, thresholdSync } from './budget.js';
import { THRESHOLD_FIELDS, type ThresholdOptions } from './options.js';

export type { ThresholdOptions } from './options.js';

/**
 * Computes the memory threshold: a fraction of the memory this process may use. Call it before
 * allocating buffers.
 *
 * The fraction is the argument, else `NLSQ_MEMORY_FRACTION`, else 0.75, clamped to [0.1, 0.9]
 * with a warning. When no memory can be detected the threshold is 16 GB, with a warning.
 *
 * With `report` (a snapshot from {@link detectMemory}) nothing is detected: the threshold is a
 * pure function of it. With `device`, the memory is that GPU's (from `devices`, else from
 * {@link detectDeviceMemory}): its `totalBytes`, or its `freeBytes` with `basis: 'available'`
 * (its total where free memory is unknown); the fraction is then the argument, else
 * `NLSQ_GPU_MEMORY_FRACTION`, else as above.
 *
 * @param memoryFraction - The fraction, or options: `memoryFraction`, `totalMemoryBytes` (a known
 * budget, which skips detection), `basis`, `report`, `device`, `devices`, `deviceTimeoutMs`,
 * `deviceProbes`, and those of {@link detectMemory}.
 * @returns The threshold in GB and bytes, and how it was computed.
 * @throws TypeError for a fraction or budget that is not a number, an unknown option (naming the
 * closest known one), or an option of the wrong type; RangeError for a non-finite fraction, a
 * budget that is not a positive safe integer, or an unknown basis. All before any I/O.
 * RangeError when `device` is not the index of a visible GPU (the message lists the visible ones).
 * @example
 * ```ts
 * const { thresholdBytes } = await getAdaptiveMemoryThreshold();
 * const { thresholdGb } = await getAdaptiveMemoryThreshold({ totalMemoryBytes: 32 * 1024 ** 3 }); // 24
 * const gpu = await getAdaptiveMemoryThreshold({ device: 0 }); // 75% of GPU 0's memory
 * ```
 */
export async function getAdaptiveMemoryThreshold(
  memoryFraction?: number | ThresholdOptions | null,
): Promise<AdaptiveThreshold> {
  return thresholdAsync(checkFractionOrOptions<ThresholdOptions>(memoryFraction, THRESHOLD_FIELDS));
}

/**
 * Like {@link getAdaptiveMemoryThreshold}, synchronously, with host RAM from `os.totalmem()`
 * (or from `report`). GPUs cannot be detected synchronously: `device` is taken with `devices` or
 * `totalMemoryBytes`.
 *
 * @param memoryFraction - The fraction, or options as for {@link getAdaptiveMemoryThreshold}.
 * @returns The threshold in GB and bytes, and how it was computed.
 * @throws TypeError or RangeError, as {@link getAdaptiveMemoryThreshold}; TypeError for `device`
 * without `devices` or `totalMemoryBytes`.
 * @example
 * ```ts
 * getAdaptiveMemoryThresholdSync(0.5).info.source; // 'argument'
 * const report = detectMemorySync();
 * getAdaptiveMemoryThresholdSync({ report }); // from the snapshot: nothing read again
 * ```
 */
export function getAdaptiveMemoryThresholdSync(
  memoryFraction?: number | ThresholdOptions | null,
): AdaptiveThreshold {
  const options = checkFractionOrOptions<ThresholdOptions>(memoryFraction, THRESHOLD_FIELDS);
  return thresholdSync(options, 'getAdaptiveMemoryThreshold');
}
