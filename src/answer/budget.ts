import { detectDeviceMemory } from '../detect/devices.js';
import { detectMemory, detectMemorySync } from '../detect/memoryDetect.js';
import { findDevice } from '../policy/device.js';
import {
  type AdaptiveThreshold,
  type Fraction,
  resolveFraction,
  thresholdFromDevice,
  thresholdFromReport,
  thresholdOf,
} from '../policy/threshold.js';
import { detectOptionsOf, deviceOptionsOf, type ThresholdOptions } from './options.js';

/** The fraction, the basis, and the threshold when no detection is needed. */
interface Start {
  fraction: Fraction;
  basis: 'total' | 'available';
  /** The threshold of a given budget, report or device list; `undefined` when detection is needed. */
  known: AdaptiveThreshold | undefined;
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
  if (options.totalMemoryBytes != null) {
    // A known budget is a total: what is available of it is not known.
    known = thresholdOf(options.totalMemoryBytes, fraction, 'override', null, 'total');
  } else if (device !== undefined) {
    if (options.devices != null) {
      known = thresholdFromDevice(findDevice(options.devices, device), fraction, basis);
    }
  } else if (options.report != null) {
    known = thresholdFromReport(options.report, fraction, basis);
  }
  return { fraction, basis, known };
}

/**
 * The threshold for checked options, detecting synchronously what they do not give. `name` is
 * the asynchronous function to name where a GPU would have to be detected (never synchronous).
 */
export function thresholdSync(options: ThresholdOptions, name: string): AdaptiveThreshold {
  const { fraction, basis, known } = start(options);
  if (known !== undefined) return known;
  if (options.device != null) {
    throw new TypeError(
      `Expected \`device\` not to be given to ${name}Sync without \`devices\`: a GPU's memory is read by running tools, asynchronously. Use ${name}, or give \`devices\` or \`totalMemoryBytes\``,
    );
  }
  return thresholdFromReport(detectMemorySync(detectOptionsOf(options)), fraction, basis);
}

/** The threshold for checked options, detecting what they do not give. */
export async function thresholdAsync(options: ThresholdOptions): Promise<AdaptiveThreshold> {
  const { fraction, basis, known } = start(options);
  if (known !== undefined) return known;
  if (options.device != null) {
    const devices = await detectDeviceMemory(deviceOptionsOf(options));
    return thresholdFromDevice(findDevice(devices, options.device), fraction, basis);
  }
  return thresholdFromReport(await detectMemory(detectOptionsOf(options)), fraction, basis);
}
