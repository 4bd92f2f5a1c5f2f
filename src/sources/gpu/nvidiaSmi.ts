import { logger } from '../../core/diagnostics.js';
import { parseInteger } from '../../core/numbers.js';
import { mibText, NOT_AVAILABLE, type RawDevice } from './rawDevice.js';

const FIELDS = 'index,uuid,name,memory.total,memory.free';
const FORMAT = '--format=csv,noheader,nounits';

/** The arguments that make `nvidia-smi` list each GPU's memory in MiB and MIG mode, one line per GPU. */
export const NVIDIA_SMI_ARGS: readonly string[] = [
  `--query-gpu=${FIELDS},mig.mode.current`,
  FORMAT,
];

/** The same without `mig.mode.current`, for drivers older than 450, which reject the field. */
export const NVIDIA_SMI_LEGACY_ARGS: readonly string[] = [`--query-gpu=${FIELDS}`, FORMAT];

/** A GPU as nvidia-smi's query lists it: a device, and whether it is split into MIG instances. */
export interface NvidiaGpu extends RawDevice {
  migEnabled: boolean;
}

const log = logger('device');
/** The one non-value that means "no memory of its own" rather than "unreadable". */
const NO_FIGURE = /^\[?N\/A\]?$/i;

function nvidiaDevice(fields: string[], withMig: boolean): NvidiaGpu | undefined {
  const memory = withMig ? fields.slice(-3, -1) : fields.slice(-2);
  const ordinal = parseInteger(fields[0] ?? '');
  const totalText = memory[0] ?? '';
  const totalBytes = mibText(totalText);
  const freeBytes = mibText(memory[1] ?? '');
  if (ordinal === undefined || totalBytes === undefined || freeBytes === undefined) {
    return undefined;
  }
  const uuid = fields[1] ?? '';
  // A name may hold commas: it is everything between the UUID and the memory fields.
  const name = fields.slice(2, withMig ? -3 : -2).join(', ');
  const migEnabled = withMig && /^enabled$/i.test(fields.at(-1) ?? '');
  return {
    ordinal,
    uuid: uuid === '' || NOT_AVAILABLE.test(uuid) ? null : uuid,
    name: name === '' || NOT_AVAILABLE.test(name) ? `GPU ${ordinal}` : name,
    vendor: 'nvidia',
    totalBytes,
    freeBytes:
      totalBytes === null || freeBytes === null ? freeBytes : Math.min(freeBytes, totalBytes),
    // A GB10 or a Jetson has no memory of its own: nvidia-smi prints [N/A] for its total.
    unifiedMemory: totalBytes === null && !migEnabled && NO_FIGURE.test(totalText),
    migEnabled,
  };
}

/**
 * Parses the output of `nvidia-smi` run with {@link NVIDIA_SMI_ARGS} (`withMig`) or
 * {@link NVIDIA_SMI_LEGACY_ARGS} (MiB). Lines that are not a device are skipped; `undefined` when
 * no line is one.
 */
export function parseNvidiaSmi(stdout: string, withMig = false): NvidiaGpu[] | undefined {
  const devices: NvidiaGpu[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const fields = line.split(',').map((field) => field.trim());
    const device = fields.length >= (withMig ? 6 : 5) ? nvidiaDevice(fields, withMig) : undefined;
    if (device === undefined || devices.some((known) => known.ordinal === device.ordinal)) {
      log('nvidia-smi: ignoring line %o', line);
      continue;
    }
    devices.push(device);
  }
  return devices.length === 0 ? undefined : devices.sort((a, b) => a.ordinal - b.ordinal);
}

/** Whether a failed query says the driver does not know `mig.mode.current` (older than 450). */
export function rejectsMigField(detail: string): boolean {
  return /mig\.mode\.current|not a valid field/i.test(detail);
}
