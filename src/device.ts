import { assertCount } from './parse.js';
import { formatGb, GIB } from './units.js';

/** Who made a GPU. */
export type DeviceVendor = 'nvidia' | 'amd' | 'other';

/** The source that reported a GPU's memory. */
export type DeviceSource = 'nvidia-smi' | 'rocm-smi' | 'systeminformation';

/** The memory of one GPU this process can use. */
export interface DeviceMemory {
  /**
   * The device's number among the visible devices, from 0: the number CUDA or HIP gives it (for
   * NVIDIA, in nvidia-smi's PCI bus order, as with `CUDA_DEVICE_ORDER=PCI_BUS_ID`).
   */
  index: number;
  /** The device's UUID (`GPU-…`), from nvidia-smi only; otherwise `null`. */
  uuid: string | null;
  /** The product name (`NVIDIA H100 80GB HBM3`), or rocm-smi's card name (`card0`). */
  name: string;
  /** Who made it. */
  vendor: DeviceVendor;
  /** Its memory, in bytes. */
  totalBytes: number;
  /** Its memory not in use now, in bytes; `null` where unknown (MIG, some drivers). */
  freeBytes: number | null;
  /** The source that reported it. */
  source: DeviceSource;
}

/** The part of systeminformation that device detection uses. */
export interface GraphicsInformationLike {
  /** Resolves with an object whose `controllers` list the GPUs, with `vram` in MiB. */
  graphics(): Promise<unknown>;
}

/** Where GPU memory is read from besides the tools on PATH; replace them in tests. */
export interface DeviceProbes {
  /** Loads systeminformation, whose `graphics()` is the last source. Default: a dynamic `import('systeminformation')`. */
  loadSystemInformation?: (() => Promise<GraphicsInformationLike>) | null | undefined;
}

/** Options of {@link detectDeviceMemory}. `null` or `undefined` means "not given". */
export interface DeviceOptions {
  /** Time budget for the whole detection, tools included, in ms. Default: 5000. */
  timeoutMs?: number | undefined;
  /** How long free memory is reused before the tool is run again, in ms. Default: 1000. */
  ttlMs?: number | undefined;
  /** Detect again now, from the first source. Default: `false`. */
  refresh?: boolean | undefined;
  /** The environment: `PATH` (where the tools are looked up) and the `*_VISIBLE_DEVICES` variables. Default: `process.env`. */
  env?: Record<string, string | undefined> | undefined;
  /** Sources besides the tools. Each distinct object has its own cache. Default: systeminformation. */
  probes?: DeviceProbes | undefined;
}

/**
 * Detects the memory of the GPUs this process can use: `nvidia-smi`, then `rocm-smi`, then
 * systeminformation's `graphics()`. Only devices made visible by `CUDA_VISIBLE_DEVICES` (NVIDIA)
 * and `ROCR_VISIBLE_DEVICES` / `HIP_VISIBLE_DEVICES` (AMD) are listed, numbered as the runtime
 * numbers them.
 *
 * The tools are looked up on the `PATH` of `env` and run asynchronously within `timeoutMs`; a
 * missing tool, a non-zero exit or output without a device moves on to the next source. A tool
 * still running past the budget is killed with every process it started, and systeminformation
 * is then not asked. The device list is kept for the process; free memory is read again at most
 * once per `ttlMs`. Concurrent calls share one run; when no source answered (each failed, or a
 * tool hung), detection is retried after `ttlMs`, backing off up to a minute.
 *
 * @param options - Time budget, cache, environment and probes; see {@link DeviceOptions}.
 * @returns The visible devices, by `index`; `[]` when there is none or nothing answered. Never
 * rejects for a failing source.
 * @throws TypeError or RangeError, for an option of the wrong type or range, before anything runs.
 * @example
 * ```ts
 * const gpus = await detectDeviceMemory();
 * gpus[0]?.totalBytes; // 85520809984 on an H100 80GB; undefined without a GPU
 * const hidden = await detectDeviceMemory({ env: { ...process.env, CUDA_VISIBLE_DEVICES: '' } });
 * ```
 */
export async function detectDeviceMemory(options?: DeviceOptions | null): Promise<DeviceMemory[]> {
  const detection = await import('./deviceDetect.js');
  return detection.detectDeviceMemory(options);
}

/**
 * Finds the device numbered `device` among `devices` (from {@link detectDeviceMemory}).
 *
 * @param devices - The visible devices.
 * @param device - The `index` of the wanted device.
 * @returns The device.
 * @throws TypeError when `device` is not a number; RangeError when it is not a non-negative
 * integer or no visible device has that index (the message lists the visible ones).
 * @example
 * ```ts
 * const gpu = findDevice(await detectDeviceMemory(), 0);
 * ```
 */
export function findDevice(devices: readonly DeviceMemory[], device: number): DeviceMemory {
  assertCount('device', device);
  const found = devices.find((candidate) => candidate.index === device);
  if (found !== undefined) return found;
  const visible =
    devices.length === 0
      ? 'no GPU is visible'
      : `visible: ${devices
          .map(
            ({ index, name, totalBytes }) => `${index} (${name}, ${formatGb(totalBytes / GIB)} GB)`,
          )
          .join(', ')}`;
  throw new RangeError(
    `Expected \`device\` to be the index of a visible GPU, got ${device}; ${visible}`,
  );
}
