import { warnOnce } from '../core/diagnostics.js';
import { gpusDiffer, wholeNvidiaGpus } from '../core/gpuOrder.js';
import type { DeviceCandidate, DeviceMemory } from '../core/types.js';
import { gb } from '../core/units.js';
import type { ThresholdBasis } from './threshold.js';

/** A device as an error message lists it: `0 (NVIDIA L4, 22.49 GB)`. */
function described({ index, name, totalBytes }: DeviceMemory): string {
  return `${index} (${name}, ${totalBytes === null ? 'host memory' : gb(totalBytes)})`;
}

/** A candidate as a warning lists it, by its source's number: `1 (NVIDIA L4, 22.49 GB)`. */
function candidate({ sourceIndex, name, totalBytes }: DeviceCandidate): string {
  return `${sourceIndex} (${name}, ${gb(totalBytes)})`;
}

/** The figure a budget by `basis` takes from a GPU: its free memory where asked and known, else its total. */
function figure(gpu: Pick<DeviceCandidate, 'freeBytes' | 'totalBytes'>, basis: ThresholdBasis) {
  return (basis === 'available' ? gpu.freeBytes : null) ?? gpu.totalBytes;
}

/** The smallest of `gpus` by `basis`; the first of equals. */
function smallestOf<T extends Pick<DeviceCandidate, 'freeBytes' | 'totalBytes'>>(
  gpus: readonly T[],
  basis: ThresholdBasis,
): T | undefined {
  return gpus.reduce<T | undefined>(
    (least, gpu) =>
      least === undefined || figure(gpu, basis) < figure(least, basis) ? gpu : least,
    undefined,
  );
}

/**
 * The GPU to budget for `found`, whose `uncertain` lists the GPUs it may be: the smallest of them,
 * with a warning, where they differ; `found` itself where they do not, or where its order
 * uncertainty is settled (`orderKnown`). An unmatched UUID is never settled so.
 */
function fromCandidates(
  found: DeviceMemory,
  orderKnown: boolean,
  basis: ThresholdBasis,
): DeviceMemory {
  const { reason, candidates } = found.uncertain ?? { reason: 'order', candidates: [] };
  if ((reason === 'order' && orderKnown) || !gpusDiffer(candidates)) return found;
  const smallest = smallestOf(candidates, basis);
  if (smallest === undefined) return found;
  const listed = candidates.map(candidate).join(', ');
  if (reason === 'order') {
    warnOnce(
      'NLSQ_MEMORY_DEVICE_ORDER',
      `device ${found.index} may be any of nvidia-smi's GPUs ${listed}: CUDA counts them fastest first, nvidia-smi by PCI bus. Budgeting the smallest, nvidia-smi's GPU ${smallest.sourceIndex}; set CUDA_DEVICE_ORDER=PCI_BUS_ID, or name GPUs by UUID in CUDA_VISIBLE_DEVICES`,
      'budget',
    );
  } else {
    warnOnce(
      'NLSQ_MEMORY_DEVICE_UUID_UNMATCHED',
      `device ${found.index} is ${found.uuid}, which matches no GPU its source gave a UUID for: it may be any of ${listed}. Budgeting the smallest, ${smallest.name}`,
      'budget',
    );
  }
  const { uuid, name, totalBytes, freeBytes } = smallest;
  return { ...found, uuid, name, totalBytes, freeBytes };
}

/**
 * Finds the device numbered `device` among `devices` (from `detectDeviceMemory`) and returns the
 * GPU to budget for it. A device whose `uncertain` lists the GPUs it may be budgets the smallest
 * of them, with a warning. In a list without that (made by hand), where CUDA's numbering is not
 * known to be nvidia-smi's (`orderKnown` false) and the whole NVIDIA GPUs listed differ, an index
 * may name any of them: the smallest, by `basis`, is returned, with a warning.
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
  if (found.uncertain != null) return fromCandidates(found, orderKnown, basis);
  const gpus = wholeNvidiaGpus(devices);
  if (orderKnown || !gpus.some((gpu) => gpu === found) || !gpusDiffer(gpus)) return found;
  const smallest = smallestOf(gpus, basis) ?? found;
  warnOnce(
    'NLSQ_MEMORY_DEVICE_ORDER',
    `device ${device} may be any of the GPUs ${gpus.map(described).join(', ')}: CUDA counts them fastest first, nvidia-smi by PCI bus. Budgeting the smallest, GPU ${smallest.index}; set CUDA_DEVICE_ORDER=PCI_BUS_ID, or name GPUs by UUID in CUDA_VISIBLE_DEVICES`,
    'budget',
  );
  return smallest;
}
