import { checkOptions } from '../core/options.js';
import type { DeviceMemory } from '../core/types.js';
import { DEVICE_FIELDS, type DeviceOptions } from './deviceOptions.js';

export type { DeviceMemory, DeviceSource, DeviceVendor } from '../core/types.js';
export type { GraphicsInformationLike } from '../sources/gpu/graphics.js';
export type { DeviceOptions, DeviceProbes } from './deviceOptions.js';

/**
 * Detects the memory of the GPUs this process can use: `nvidia-smi`, then `rocm-smi`, then
 * systeminformation's `graphics()`. Only devices made visible by `CUDA_VISIBLE_DEVICES` (NVIDIA)
 * and `ROCR_VISIBLE_DEVICES` / `HIP_VISIBLE_DEVICES` (AMD) are listed, numbered as the runtime
 * numbers them.
 *
 * The tools are looked up on the `PATH` of `env` and run asynchronously, lookup included, within
 * `timeoutMs`; a missing tool, a non-zero exit or output without a device moves on to the next
 * source. A tool still running past the budget is killed with every process it started, and
 * systeminformation is then not asked. The device list is kept for the process; free memory is
 * read again at most once per `ttlMs`. Concurrent calls share one run; when no source answered
 * (each failed, or a tool hung), detection is retried after `ttlMs`, backing off up to a minute.
 *
 * @param options - Time budget, cache, environment and probes; see {@link DeviceOptions}.
 * @returns The visible devices, by `index`; `[]` when there is none or nothing answered. Never
 * rejects for a failing source.
 * @throws TypeError or RangeError, for an unknown option or one of the wrong type or range, before
 * anything runs.
 * @example
 * ```ts
 * const gpus = await detectDeviceMemory();
 * gpus[0]?.totalBytes; // 85520809984 on an H100 80GB; undefined without a GPU
 * const hidden = await detectDeviceMemory({ env: { ...process.env, CUDA_VISIBLE_DEVICES: '' } });
 * ```
 */
export async function detectDeviceMemory(options?: DeviceOptions | null): Promise<DeviceMemory[]> {
  const checked = checkOptions<DeviceOptions>(options, DEVICE_FIELDS);
  // Loaded on first use: importing the library does not parse GPU detection.
  const detection = await import('./deviceDetect.js');
  return detection.detectDevices(checked);
}
