import { isObject } from '../../core/check.js';
import type { DeviceVendor } from '../../core/types.js';
import { mibNumber, type RawDevice } from './rawDevice.js';

/** The part of systeminformation that device detection uses. */
export interface GraphicsInformationLike {
  /** Resolves with an object whose `controllers` list the GPUs, with `vram` in MiB. */
  graphics(): Promise<unknown>;
}

/** The vendor of a graphics controller, from its vendor name or PCI vendor id. */
export function vendorOf(vendor: unknown, vendorId: unknown): DeviceVendor {
  const name = typeof vendor === 'string' ? vendor : '';
  const id = typeof vendorId === 'string' ? vendorId.toLowerCase().replace(/^0x/, '') : '';
  if (/nvidia/i.test(name) || id === '10de') return 'nvidia';
  if (/\bamd\b|advanced micro devices|\bati\b/i.test(name) || id === '1002') return 'amd';
  return 'other';
}

/**
 * Reads systeminformation's `graphics()` answer: its `controllers`, `vram` and `memoryFree` in
 * MiB. A controller whose memory is shared with the host (`vramDynamic`) or unknown has no total.
 * `undefined` when there is no `controllers` array; `[]` when it is empty.
 */
export function parseGraphics(data: unknown): RawDevice[] | undefined {
  const controllers = isObject(data) ? data.controllers : undefined;
  if (!Array.isArray(controllers)) return undefined;
  const counts: Record<DeviceVendor, number> = { nvidia: 0, amd: 0, other: 0 };
  const devices: RawDevice[] = [];
  for (const controller of controllers) {
    if (!isObject(controller)) continue;
    const vendor = vendorOf(controller.vendor, controller.vendorId);
    const name = [controller.model, controller.name, controller.vendor].find(
      (text): text is string => typeof text === 'string' && text.trim() !== '',
    );
    const vram = controller.vramDynamic === true ? null : mibNumber(controller.vram);
    const totalBytes = vram === 0 ? null : vram;
    devices.push({
      ordinal: counts[vendor]++,
      uuid: null,
      name: name?.trim() ?? 'GPU',
      vendor,
      totalBytes,
      freeBytes: totalBytes === null ? null : mibNumber(controller.memoryFree),
    });
  }
  return devices;
}
