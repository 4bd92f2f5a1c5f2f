import type { DeviceMemory } from '../core/types.js';
import { gb } from '../core/units.js';

/** A device as an error message lists it: `0 (NVIDIA L4, 22.49 GB)`. */
function described({ index, name, totalBytes }: DeviceMemory): string {
  return `${index} (${name}, ${totalBytes === null ? 'host memory' : gb(totalBytes)})`;
}

/**
 * Finds the device numbered `device` among `devices` (from `detectDeviceMemory`).
 *
 * @throws RangeError when no visible device has that index; the message lists the visible ones.
 */
export function findDevice(devices: readonly DeviceMemory[], device: number): DeviceMemory {
  const found = devices.find((candidate) => candidate.index === device);
  if (found !== undefined) return found;
  const visible =
    devices.length === 0 ? 'no GPU is visible' : `visible: ${devices.map(described).join(', ')}`;
  throw new RangeError(
    `Expected \`device\` to be the index of a visible GPU, got ${device}; ${visible}`,
  );
}
