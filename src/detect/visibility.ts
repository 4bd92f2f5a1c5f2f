import { logger } from '../core/diagnostics.js';
import type { DeviceMemory, DeviceSource, DeviceVendor } from '../core/types.js';
import type { RawDevice } from '../sources/gpu/rawDevice.js';
import { envValue } from '../sources/gpu/tools.js';
import type { Env } from '../sources/slurm.js';

const log = logger('device');

function pick(devices: readonly RawDevice[], entry: string): RawDevice | undefined {
  if (/^\d+$/.test(entry)) return devices.find((device) => device.ordinal === Number(entry));
  if (/^GPU-./i.test(entry)) {
    const prefix = entry.toLowerCase();
    const matches = devices.filter((device) => device.uuid?.toLowerCase().startsWith(prefix));
    return matches.length === 1 ? matches[0] : undefined;
  }
  return undefined;
}

/**
 * Applies a `*_VISIBLE_DEVICES` value: devices by ordinal or by UUID (a unique `GPU-` prefix is
 * enough), in the order listed, renumbered from 0. Unset shows all; an entry that names no device
 * (or one already listed) hides itself and every later entry, so empty and `-1` hide all.
 */
function restrictDevices(
  devices: readonly RawDevice[],
  value: string | undefined,
  variable: string,
): RawDevice[] {
  if (value === undefined) return [...devices];
  const chosen: RawDevice[] = [];
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    const device = pick(devices, entry);
    if (device === undefined || chosen.includes(device)) {
      log('%s: %o names no device; it and the entries after it are hidden', variable, entry);
      break;
    }
    chosen.push(device);
  }
  return chosen.map((device, ordinal) => ({ ...device, ordinal }));
}

/**
 * The devices a fit in this process can use: NVIDIA ones through `CUDA_VISIBLE_DEVICES`, AMD ones
 * through `ROCR_VISIBLE_DEVICES` then `HIP_VISIBLE_DEVICES`, numbered from 0 in that order. A
 * device whose total memory is unknown is left out, and its number is not reused.
 */
export function visibleDevices(
  devices: readonly RawDevice[],
  source: DeviceSource,
  env: Env,
): DeviceMemory[] {
  const of = (vendor: DeviceVendor) => devices.filter((device) => device.vendor === vendor);
  const nvidia = restrictDevices(
    of('nvidia'),
    envValue(env, 'CUDA_VISIBLE_DEVICES'),
    'CUDA_VISIBLE_DEVICES',
  );
  const rocr = restrictDevices(
    of('amd'),
    envValue(env, 'ROCR_VISIBLE_DEVICES'),
    'ROCR_VISIBLE_DEVICES',
  );
  const amd = restrictDevices(rocr, envValue(env, 'HIP_VISIBLE_DEVICES'), 'HIP_VISIBLE_DEVICES');
  const visible: DeviceMemory[] = [];
  [...nvidia, ...amd, ...of('other')].forEach((device, index) => {
    const { uuid, name, vendor, totalBytes, freeBytes } = device;
    if (totalBytes === null) {
      log('%s: leaving out device %d (%s), whose total memory is unknown', source, index, name);
      return;
    }
    visible.push({ index, uuid, name, vendor, totalBytes, freeBytes, source });
  });
  return visible;
}
