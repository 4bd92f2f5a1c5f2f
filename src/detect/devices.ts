import { checkOptions } from '../core/options.js';
import type { DeviceMemory } from '../core/types.js';
import { DEVICE_FIELDS, type DeviceOptions } from './deviceOptions.js';

export type {
  DeviceCandidate,
  DeviceMemory,
  DeviceSource,
  DeviceUncertainty,
  DeviceVendor,
} from '../core/types.js';
export type { GraphicsInformationLike } from '../sources/gpu/graphics.js';
export type { DeviceOptions, DeviceProbes } from './deviceOptions.js';

/**
 * Detects the memory of the GPUs this process can use: `nvidia-smi`, then `rocm-smi`, then
 * systeminformation's `graphics()`. A GPU in MIG mode is listed as its instances, each with its
 * own memory (`nvidia-smi -L`, then `nvidia-smi -q -x`); a GPU that shares the host's memory with
 * `totalBytes: null` and `unifiedMemory: true`. Only devices made visible by
 * `CUDA_VISIBLE_DEVICES` (NVIDIA; MIG UUIDs too) and, as HIP applies them,
 * `ROCR_VISIBLE_DEVICES`, then `HIP_VISIBLE_DEVICES` or `CUDA_VISIBLE_DEVICES` (AMD) are listed,
 * numbered as the runtime numbers them. Where the GPU the runtime will use cannot be told for
 * sure (an index counted in CUDA's order on a node whose GPUs differ, a UUID that matches no
 * device with a known UUID), the device carries `uncertain`: the GPUs it may be.
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
 * gpus[0]?.totalBytes; // 85520809984 on an H100 80GB, 42144366592 on a 3g.40gb MIG slice
 * const hidden = await detectDeviceMemory({ env: { ...process.env, CUDA_VISIBLE_DEVICES: '' } });
 * ```
 */
export async function detectDeviceMemory(options?: DeviceOptions | null): Promise<DeviceMemory[]> {
  const checked = checkOptions<DeviceOptions>(options, DEVICE_FIELDS);
  // Loaded on first use: importing the library does not parse GPU detection.
  const detection = await import('./deviceDetect.js');
  return detection.detectDevices(checked);
}
