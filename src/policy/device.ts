import type { DeviceMemory } from '../core/types.js';
import { gb } from '../core/units.js';

/**
 * Finds the device numbered `device` among `devices` (from `detectDeviceMemory`).
 *
 * @throws RangeError when no visible device has that index; the message lists the visible ones.
 */
export function findDevice(devices: readonly DeviceMemory[], device: number): DeviceMemory {
  const found = devices.find((candidate) => candidate.index === device);
  if (found !== undefined) return found;
  const visible =
    devices.length === 0
      ? 'no GPU is visible'
      : `visible: ${devices
          .map(({ index, name, totalBytes }) => `${index} (${name}, ${gb(totalBytes)})`)
          .join(', ')}`;
  throw new RangeError(
    `Expected \`device\` to be the index of a visible GPU, got ${device}; ${visible}`,
  );
}
