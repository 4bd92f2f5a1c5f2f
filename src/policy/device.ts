import { warnOnce } from '../core/diagnostics.js';
import { gpusDiffer, wholeNvidiaGpus } from '../core/gpuOrder.js';
import type { DeviceMemory } from '../core/types.js';
import { gb } from '../core/units.js';
import type { ThresholdBasis } from './threshold.js';

/** A device as an error message lists it: `0 (NVIDIA L4, 22.49 GB)`. */
function described({ index, name, totalBytes }: DeviceMemory): string {
  return `${index} (${name}, ${totalBytes === null ? 'host memory' : gb(totalBytes)})`;
}

/**
 * Finds the device numbered `device` among `devices` (from `detectDeviceMemory`). Where CUDA's
 * numbering is not known to be nvidia-smi's (`orderKnown` false) and the whole NVIDIA GPUs differ,
 * an index may name any of them: the smallest, by `basis`, is returned, with a warning.
 *
 * @throws RangeError when no visible device has that index; the message lists the visible ones.
 */
export function findDevice(
  devices: readonly DeviceMemory[],
  device: number,
  orderKnown = true,
  basis: ThresholdBasis = 'total',
): DeviceMemory {
  const found = devices.find((candidate) => candidate.index === device);
  if (found === undefined) {
    const visible =
      devices.length === 0 ? 'no GPU is visible' : `visible: ${devices.map(described).join(', ')}`;
    throw new RangeError(
      `Expected \`device\` to be the index of a visible GPU, got ${device}; ${visible}`,
    );
  }
  const gpus = wholeNvidiaGpus(devices);
  if (orderKnown || !gpus.includes(found) || !gpusDiffer(gpus)) return found;
  const figure = (gpu: DeviceMemory): number =>
    (basis === 'available' ? gpu.freeBytes : null) ?? gpu.totalBytes ?? 0;
  const smallest = gpus.reduce((least, gpu) => (figure(gpu) < figure(least) ? gpu : least));
  warnOnce(
    'NLSQ_MEMORY_DEVICE_ORDER',
    `device ${device} may be any of the GPUs ${gpus.map(described).join(', ')}: CUDA counts them fastest first, nvidia-smi by PCI bus. Budgeting the smallest, GPU ${smallest.index}; set CUDA_DEVICE_ORDER=PCI_BUS_ID, or name GPUs by UUID in CUDA_VISIBLE_DEVICES`,
    'budget',
  );
  return smallest;
}
