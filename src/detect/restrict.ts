// One `*_VISIBLE_DEVICES` value applied to the devices a source reported, as the runtime applies it.
import { logger, warnOnce } from '../core/diagnostics.js';
import { gb } from '../core/units.js';
import type { RawDevice } from '../sources/gpu/rawDevice.js';

/** A device a `*_VISIBLE_DEVICES` value shows, `ordinal` renumbered among those shown. */
export interface ShownDevice extends RawDevice {
  /**
   * Whether it is shown by an index (or by no variable): which GPU that is depends on the
   * runtime's numbering. `false` where a UUID named it.
   */
  byIndex: boolean;
  /**
   * Set on a stand-in for a `GPU-` UUID that matched no device, where some have no known UUID:
   * the devices it may be (it is listed as the smallest of them).
   */
  unmatched?: (RawDevice & { totalBytes: number })[];
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

/** A device as a warning lists it: `card2 (0.06 GB)`. */
const described = ({ name, totalBytes }: RawDevice): string =>
  `${name} (${totalBytes === null ? 'unknown' : gb(totalBytes)})`;

/**
 * What shows for a `GPU-` UUID that matched no device: where some whole devices not listed yet
 * have no known UUID (a source that gives none, a card without one), it may be any of them, and
 * the smallest stands in for it, with a warning; else nothing, as the runtime shows nothing.
 */
function standIn(
  devices: readonly ShownDevice[],
  entry: string,
  chosen: readonly ShownDevice[],
  where: { variable: string; source: string },
): ShownDevice | undefined {
  if (!/^gpu-./i.test(entry)) return undefined;
  const { variable, source } = where;
  const lower = entry.toLowerCase();
  if (devices.some((device) => gpuUuid(device).startsWith(lower))) {
    warnOnce(
      'NLSQ_MEMORY_DEVICE_UUID_UNMATCHED',
      `${variable} names ${entry}, a prefix of more than one GPU ${source} lists: it and the entries after it are hidden, as the runtime hides them`,
      'visibility',
    );
    return undefined;
  }
  const unknown = devices.filter(
    (device): device is ShownDevice & { totalBytes: number } =>
      device.uuid === null &&
      device.mig === undefined &&
      device.totalBytes !== null &&
      !chosen.includes(device),
  );
  const smallest = unknown.reduce<(typeof unknown)[number] | undefined>(
    (least, device) =>
      least === undefined || device.totalBytes < least.totalBytes ? device : least,
    undefined,
  );
  if (smallest === undefined) {
    warnOnce(
      'NLSQ_MEMORY_DEVICE_UUID_UNMATCHED',
      `${variable} names ${entry}, which is no GPU ${source} lists: it and the entries after it are hidden, as the runtime hides them`,
      'visibility',
    );
    return undefined;
  }
  warnOnce(
    'NLSQ_MEMORY_DEVICE_UUID_UNMATCHED',
    `${variable} names ${entry}, but ${source} gave no UUID for ${unknown.map(described).join(', ')}: it may be any of them. Listing the smallest, ${described(smallest)}, in its place`,
    'visibility',
  );
  return { ...smallest, uuid: entry, byIndex: false, unmatched: unknown };
}

/**
 * Applies a `*_VISIBLE_DEVICES` value (`where.variable`) to the devices `where.source` reported:
 * the devices its entries name, in the order listed, renumbered from 0. Unset shows all; an entry
 * that names no device (or one already listed) hides itself and every later entry, so empty and
 * `-1` hide all; a `GPU-` UUID that matches no device where some have no known UUID shows the
 * smallest of those in its place.
 */
export function restrictDevices(
  devices: readonly ShownDevice[],
  value: string | undefined,
  where: { variable: string; source: string },
): ShownDevice[] {
  // No device to restrict: HIP reads CUDA_VISIBLE_DEVICES too, which on an NVIDIA node names none.
  if (value === undefined || devices.length === 0) return [...devices];
  const chosen: ShownDevice[] = [];
  const shown: ShownDevice[] = [];
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    const named = pick(devices, entry);
    const substitute = named.length === 0 ? standIn(devices, entry, chosen, where) : undefined;
    if (substitute !== undefined) {
      shown.push(substitute);
      continue;
    }
    if (named.length === 0 || named.some((device) => chosen.includes(device))) {
      log('%s: %o names no device; it and the entries after it are hidden', where.variable, entry);
      break;
    }
    chosen.push(...named);
    const byIndex = isIndex(entry);
    for (const device of named) shown.push({ ...device, byIndex: device.byIndex && byIndex });
  }
  return shown.map((device, ordinal) => ({ ...device, ordinal }));
}
