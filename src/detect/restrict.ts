// One `*_VISIBLE_DEVICES` value applied to the devices a source reported, as the runtime applies it.
import { logger } from '../core/diagnostics.js';
import type { RawDevice } from '../sources/gpu/rawDevice.js';

/** A device a `*_VISIBLE_DEVICES` value shows, `ordinal` renumbered among those shown. */
export interface ShownDevice extends RawDevice {
  /**
   * Whether it is shown by an index (or by no variable): which GPU that is depends on the
   * runtime's numbering. `false` where a UUID named it.
   */
  byIndex: boolean;
}

const log = logger('device');

/** Whether a `*_VISIBLE_DEVICES` entry is an index. */
export const isIndex = (entry: string): boolean => /^\d+$/.test(entry.trim());

/** The UUID of the whole GPU a device is or sits on (a MIG instance's parent). */
const gpuUuid = (device: RawDevice): string =>
  (device.mig?.parent ?? device.uuid ?? '').toLowerCase();

/** The devices whose `key` starts with `prefix`, when they all share one `key`: a unique prefix. */
function byPrefix<T extends RawDevice>(
  devices: readonly T[],
  prefix: string,
  key: (device: RawDevice) => string,
): T[] {
  const matches = devices.filter((device) => key(device).startsWith(prefix));
  return new Set(matches.map(key)).size === 1 ? matches : [];
}

/**
 * The devices one entry names: an index or a (unique prefix of a) `GPU-` UUID names a whole GPU,
 * so all the instances of one in MIG mode; `MIG-<uuid>` and `MIG-GPU-<uuid>/<gi>/<ci>` one instance.
 */
function pick<T extends RawDevice>(devices: readonly T[], entry: string): T[] {
  if (isIndex(entry)) return devices.filter((device) => device.ordinal === Number(entry));
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

/** The devices of a source as no variable restricts them: each numbered by the runtime's order. */
export function unrestricted(devices: readonly RawDevice[]): ShownDevice[] {
  return devices.map((device) => ({ ...device, byIndex: true }));
}

/**
 * Applies a `*_VISIBLE_DEVICES` value: the devices its entries name, in the order listed, renumbered
 * from 0. Unset shows all; an entry that names no device (or one already listed) hides itself and
 * every later entry, so empty and `-1` hide all.
 */
export function restrictDevices(
  devices: readonly ShownDevice[],
  value: string | undefined,
  variable: string,
): ShownDevice[] {
  if (value === undefined) return [...devices];
  const chosen: ShownDevice[] = [];
  const shown: ShownDevice[] = [];
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    const named = pick(devices, entry);
    if (named.length === 0 || named.some((device) => chosen.includes(device))) {
      log('%s: %o names no device; it and the entries after it are hidden', variable, entry);
      break;
    }
    chosen.push(...named);
    const byIndex = isIndex(entry);
    for (const device of named) shown.push({ ...device, byIndex: device.byIndex && byIndex });
  }
  return shown.map((device, ordinal) => ({ ...device, ordinal }));
}
