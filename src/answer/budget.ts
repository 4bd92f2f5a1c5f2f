import { cudaOrderKnown } from '../core/gpuOrder.js';
import type { DeviceMemory, MemoryReport } from '../core/types.js';
import { detectDeviceMemory } from '../detect/devices.js';
import { detectMemory, detectMemorySync } from '../detect/memoryDetect.js';
import { findDevice } from '../policy/device.js';
import {
  type AdaptiveThreshold,
  type Fraction,
  resolveFraction,
  type ThresholdBasis,
  thresholdFromDevice,
  thresholdFromReport,
  thresholdOf,
} from '../policy/threshold.js';
import { envValue } from '../sources/gpu/tools.js';
import { detectOptionsOf, deviceOptionsOf, type ThresholdOptions } from './options.js';

/** The fraction, the basis, and the threshold when no detection is needed. */
interface Start {
  fraction: Fraction;
  basis: ThresholdBasis;
  /** The threshold of a given budget, report or device list; `undefined` when detection is needed. */
  known: AdaptiveThreshold | undefined;
  /** A GPU found in `devices` that shares the host's memory, whose report is still to be detected. */
  unified: DeviceMemory | undefined;
}

/** The GPU `options.device` names among `devices`, by CUDA's order as `options.env` sets it. */
function gpuOf(
  options: ThresholdOptions,
  devices: readonly DeviceMemory[],
  basis: ThresholdBasis,
): DeviceMemory {
  const env = options.env ?? process.env;
  const orderKnown = cudaOrderKnown(
    envValue(env, 'CUDA_DEVICE_ORDER'),
    envValue(env, 'CUDA_VISIBLE_DEVICES'),
  );
  return findDevice(devices, options.device ?? 0, orderKnown, basis);
}

/** What can be told before any detection, from options already checked. */
function start(options: ThresholdOptions): Start {
  const device = options.device ?? undefined;
  const fraction = resolveFraction(
    options.memoryFraction ?? undefined,
    options.env ?? process.env,
    device !== undefined,
  );
  const basis = options.basis ?? 'total';
  let known: AdaptiveThreshold | undefined;
  let unified: DeviceMemory | undefined;
  if (options.totalMemoryBytes != null) {
    // A known budget is a total: what is available of it is not known.
    known = thresholdOf(options.totalMemoryBytes, fraction, 'override', null, 'total');
  } else if (device !== undefined) {
    const gpu = options.devices == null ? undefined : gpuOf(options, options.devices, basis);
    if (gpu?.unifiedMemory === true && options.report == null) unified = gpu;
    else if (gpu !== undefined) {
      known = thresholdFromDevice(gpu, fraction, basis, options.report ?? null);
    }
  } else if (options.report != null) {
    known = thresholdFromReport(options.report, fraction, basis);
  }
  return { fraction, basis, known, unified };
}

/**
 * The threshold for checked options, detecting synchronously what they do not give. `name` is
 * the asynchronous function to name where a GPU would have to be detected (never synchronous).
 */
export function thresholdSync(options: ThresholdOptions, name: string): AdaptiveThreshold {
  const { fraction, basis, known, unified } = start(options);
  if (known !== undefined) return known;
  if (unified !== undefined) {
    const report = detectMemorySync(detectOptionsOf(options));
    return thresholdFromDevice(unified, fraction, basis, report);
  }
  if (options.device != null) {
    throw new TypeError(
      `Expected \`device\` not to be given to ${name}Sync without \`devices\`: a GPU's memory is read by running tools, asynchronously. Use ${name}, or give \`devices\` or \`totalMemoryBytes\``,
    );
  }
  return thresholdFromReport(detectMemorySync(detectOptionsOf(options)), fraction, basis);
}

/** The threshold for checked options, detecting what they do not give. */
export async function thresholdAsync(options: ThresholdOptions): Promise<AdaptiveThreshold> {
  const { fraction, basis, known, unified } = start(options);
  if (known !== undefined) return known;
  const host = (): Promise<MemoryReport | null> => detectMemory(detectOptionsOf(options));
  if (unified !== undefined) return thresholdFromDevice(unified, fraction, basis, await host());
  if (options.device != null) {
    const gpu = gpuOf(options, await detectDeviceMemory(deviceOptionsOf(options)), basis);
    const report = gpu.unifiedMemory ? (options.report ?? (await host())) : null;
    return thresholdFromDevice(gpu, fraction, basis, report);
  }
  return thresholdFromReport(await host(), fraction, basis);
}
