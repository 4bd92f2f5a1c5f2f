import { logger, warnOnce } from '../core/diagnostics.js';
import { cudaOrderKnown, gpusDiffer, wholeNvidiaGpus } from '../core/gpuOrder.js';
import type { DeviceMemory, DeviceSource, DeviceVendor } from '../core/types.js';
import type { RawDevice } from '../sources/gpu/rawDevice.js';
import { envValue } from '../sources/gpu/tools.js';
import type { Env } from '../sources/slurm.js';

const log = logger('device');

/** The UUID of the whole GPU a device is or sits on (a MIG instance's parent). */
const gpuUuid = (device: RawDevice): string =>
  (device.mig?.parent ?? device.uuid ?? '').toLowerCase();

/** The devices whose `key` starts with `prefix`, when they all share one `key`: a unique prefix. */
function byPrefix(
  devices: readonly RawDevice[],
  prefix: string,
  key: (device: RawDevice) => string,
): RawDevice[] {
  const matches = devices.filter((device) => key(device).startsWith(prefix));
  return new Set(matches.map(key)).size === 1 ? matches : [];
}

/**
 * The devices one entry names: an index or a (unique prefix of a) `GPU-` UUID names a whole GPU,
 * so all the instances of one in MIG mode; `MIG-<uuid>` and `MIG-GPU-<uuid>/<gi>/<ci>` one instance.
 */
function pick(devices: readonly RawDevice[], entry: string): RawDevice[] {
  if (/^\d+$/.test(entry)) return devices.filter((device) => device.ordinal === Number(entry));
  const lower = entry.toLowerCase();
  if (/^gpu-./.test(lower)) return byPrefix(devices, lower, gpuUuid);
  const place = /^mig-(gpu-[^/]+)\/(\d+)\/(\d+)$/.exec(lower);
  if (place !== null) {
    return devices.filter(
      ({ mig }) =>
        mig !== undefined &&
        mig.parent.toLowerCase() === place[1] &&
        mig.gpuInstance === Number(place[2]) &&
        mig.computeInstance === Number(place[3]),
    );
  }
  if (/^mig-./.test(lower))
    return byPrefix(devices, lower, (device) => (device.uuid ?? '').toLowerCase());
  return [];
}

/**
 * Applies a `*_VISIBLE_DEVICES` value: the devices its entries name, in the order listed, renumbered
 * from 0. Unset shows all; an entry that names no device (or one already listed) hides itself and
 * every later entry, so empty and `-1` hide all.
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
    const named = pick(devices, entry);
    if (named.length === 0 || named.some((device) => chosen.includes(device))) {
      log('%s: %o names no device; it and the entries after it are hidden', variable, entry);
      break;
    }
    chosen.push(...named);
  }
  return chosen.map((device, ordinal) => ({ ...device, ordinal }));
}

/** What HIP restricts AMD devices by: `HIP_VISIBLE_DEVICES` when non-empty, else `CUDA_VISIBLE_DEVICES`. */
function hipVariable(env: Env): [string, string | undefined] {
  for (const name of ['HIP_VISIBLE_DEVICES', 'CUDA_VISIBLE_DEVICES']) {
    const value = envValue(env, name);
    if (value !== undefined && value !== '') return [name, value];
  }
  return ['HIP_VISIBLE_DEVICES', undefined];
}

/**
 * Warns when `CUDA_VISIBLE_DEVICES` names GPUs by index on a machine whose GPUs differ, in CUDA's
 * fastest-first order: which GPUs it shows depends on an order nvidia-smi does not tell.
 */
function warnIfIndicesUncertain(nvidia: readonly RawDevice[], env: Env, visible: string): void {
  if (!visible.split(',').some((entry) => /^\d+$/.test(entry.trim()))) return;
  if (cudaOrderKnown(envValue(env, 'CUDA_DEVICE_ORDER'), visible)) return;
  if (!gpusDiffer(wholeNvidiaGpus(nvidia))) return;
  warnOnce(
    'NLSQ_MEMORY_DEVICE_ORDER',
    `CUDA_VISIBLE_DEVICES=${visible} names GPUs by index, which CUDA counts fastest first: the GPUs listed are nvidia-smi's, in PCI bus order, and may not be those CUDA uses. Set CUDA_DEVICE_ORDER=PCI_BUS_ID, or name GPUs by UUID`,
    'visibility',
  );
}

/**
 * The devices a fit in this process can use: NVIDIA ones through `CUDA_VISIBLE_DEVICES`, AMD ones
 * as HIP applies `ROCR_VISIBLE_DEVICES`, then `HIP_VISIBLE_DEVICES` when non-empty, else
 * `CUDA_VISIBLE_DEVICES` when non-empty; numbered from 0 in that order. A device whose total
 * memory is unknown (and that does not share the host's) is left out; its number is not reused.
 */
export function visibleDevices(
  devices: readonly RawDevice[],
  source: DeviceSource,
  env: Env,
): DeviceMemory[] {
  const of = (vendor: DeviceVendor) => devices.filter((device) => device.vendor === vendor);
  const cuda = envValue(env, 'CUDA_VISIBLE_DEVICES');
  if (cuda !== undefined) warnIfIndicesUncertain(of('nvidia'), env, cuda);
  const nvidia = restrictDevices(of('nvidia'), cuda, 'CUDA_VISIBLE_DEVICES');
  const rocr = restrictDevices(
    of('amd'),
    envValue(env, 'ROCR_VISIBLE_DEVICES'),
    'ROCR_VISIBLE_DEVICES',
  );
  const [hipName, hip] = hipVariable(env);
  const amd = restrictDevices(rocr, hip, hipName);
  const visible: DeviceMemory[] = [];
  [...nvidia, ...amd, ...of('other')].forEach((device, index) => {
    const { uuid, name, vendor, totalBytes, freeBytes } = device;
    const unifiedMemory = device.unifiedMemory === true;
    if (totalBytes === null && !unifiedMemory) {
      log('%s: leaving out device %d (%s), whose total memory is unknown', source, index, name);
      return;
    }
    visible.push({ index, uuid, name, vendor, totalBytes, freeBytes, unifiedMemory, source });
  });
  return visible;
}
