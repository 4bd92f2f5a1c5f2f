import { logger } from '../../core/diagnostics.js';
import { parseInteger } from '../../core/numbers.js';
import { mibText, NOT_AVAILABLE, type RawDevice } from './rawDevice.js';

/** The arguments that make `nvidia-smi` list each GPU's memory in MiB, one line per GPU. */
export const NVIDIA_SMI_ARGS: readonly string[] = [
  '--query-gpu=index,uuid,name,memory.total,memory.free',
  '--format=csv,noheader,nounits',
];

const log = logger('device');

function nvidiaDevice(fields: string[]): RawDevice | undefined {
  const ordinal = parseInteger(fields[0] ?? '');
  const totalBytes = mibText(fields.at(-2) ?? '');
  const freeBytes = mibText(fields.at(-1) ?? '');
  if (ordinal === undefined || totalBytes === undefined || freeBytes === undefined) {
    return undefined;
  }
  const uuid = fields[1] ?? '';
  // A name may hold commas: it is everything between the UUID and the two memory fields.
  const name = fields.slice(2, -2).join(', ');
  return {
    ordinal,
    uuid: uuid === '' || NOT_AVAILABLE.test(uuid) ? null : uuid,
    name: name === '' || NOT_AVAILABLE.test(name) ? `GPU ${ordinal}` : name,
    vendor: 'nvidia',
    totalBytes,
    freeBytes:
      totalBytes === null || freeBytes === null ? freeBytes : Math.min(freeBytes, totalBytes),
  };
}

/**
 * Parses the output of `nvidia-smi --query-gpu=index,uuid,name,memory.total,memory.free
 * --format=csv,noheader,nounits` (MiB). Lines that are not a device are skipped; `undefined`
 * when no line is one.
 */
export function parseNvidiaSmi(stdout: string): RawDevice[] | undefined {
  const devices: RawDevice[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const fields = line.split(',').map((field) => field.trim());
    const device = fields.length >= 5 ? nvidiaDevice(fields) : undefined;
    if (device === undefined || devices.some((known) => known.ordinal === device.ordinal)) {
      log('nvidia-smi: ignoring line %o', line);
      continue;
    }
    devices.push(device);
  }
  return devices.length === 0 ? undefined : devices.sort((a, b) => a.ordinal - b.ordinal);
}
