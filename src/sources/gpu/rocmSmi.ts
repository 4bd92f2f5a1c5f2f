import { isObject } from '../../core/check.js';
import { logger } from '../../core/diagnostics.js';
import { parseInteger } from '../../core/numbers.js';
import { NOT_AVAILABLE, type RawDevice } from './rawDevice.js';

/**
 * The arguments that make `rocm-smi` print each card's memory in bytes and its unique ID (the
 * UUID `ROCR_VISIBLE_DEVICES` takes), as JSON.
 */
export const ROCM_SMI_ARGS: readonly string[] = [
  '--showmeminfo',
  'vram',
  '--showuniqueid',
  '--json',
];

/** The same without the unique ID: asked when a run with it fails (a card without one may fail it). */
export const ROCM_SMI_MEMORY_ARGS: readonly string[] = ['--showmeminfo', 'vram', '--json'];

const log = logger('device');

/** A byte count from rocm-smi's JSON: bytes, `null` when missing or N/A, `undefined` for garbage. */
function bytesField(value: unknown): number | null | undefined {
  if (value === undefined) return null;
  if (typeof value === 'number')
    return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  return NOT_AVAILABLE.test(value.trim()) ? null : parseInteger(value);
}

/**
 * The UUID ROCm gives a card of `Unique ID` (`0x592c190172fd5d40`, or without `0x` from older
 * rocm-smi): `GPU-` and its 16 hex digits, as `rocminfo` prints it and `ROCR_VISIBLE_DEVICES`
 * takes it; `null` for N/A, 0 (no unique ID: ROCm's `GPU-XX`) or anything else.
 */
export function rocmUuid(value: unknown): string | null {
  const hex = typeof value === 'string' ? /^(?:0x)?([0-9a-f]{1,16})$/i.exec(value.trim()) : null;
  if (hex?.[1] === undefined || /^0+$/.test(hex[1])) return null;
  return `GPU-${hex[1].toLowerCase().padStart(16, '0')}`;
}

/**
 * Parses the output of `rocm-smi --showmeminfo vram --showuniqueid --json` (bytes, devices
 * `card0`, `card1`, …; the unique ID where given). Text around the JSON object is ignored;
 * `undefined` when there is no card in it.
 */
export function parseRocmSmi(stdout: string): RawDevice[] | undefined {
  // The object starts a line: a warning printed before it may hold a brace of its own.
  const start = /^\s*\{/m.exec(stdout)?.index ?? -1;
  const end = stdout.lastIndexOf('}');
  if (start === -1 || end < start) return undefined;
  let data: Record<string, unknown>;
  try {
    // From a brace to a brace: valid JSON there is an object.
    data = JSON.parse(stdout.slice(start, end + 1));
  } catch {
    return undefined;
  }
  const devices: RawDevice[] = [];
  for (const [key, value] of Object.entries(data)) {
    const card = /^card(\d+)$/.exec(key)?.[1];
    if (card === undefined || !isObject(value)) continue;
    const totalBytes = bytesField(value['VRAM Total Memory (B)']);
    const usedBytes = bytesField(value['VRAM Total Used Memory (B)']);
    if (totalBytes === undefined || usedBytes === undefined) {
      log('rocm-smi: ignoring %s %o', key, value);
      continue;
    }
    devices.push({
      ordinal: Number(card),
      uuid: rocmUuid(value['Unique ID']),
      name: key,
      vendor: 'amd',
      totalBytes,
      freeBytes:
        totalBytes === null || usedBytes === null ? null : Math.max(0, totalBytes - usedBytes),
    });
  }
  return devices.length === 0 ? undefined : devices.sort((a, b) => a.ordinal - b.ordinal);
}
