import { isObject } from '../../core/check.js';
import { logger } from '../../core/diagnostics.js';
import { parseInteger } from '../../core/numbers.js';
import { NOT_AVAILABLE, type RawDevice } from './rawDevice.js';

/** The arguments that make `rocm-smi` print each card's memory in bytes, as JSON. */
export const ROCM_SMI_ARGS: readonly string[] = ['--showmeminfo', 'vram', '--json'];

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
 * Parses the output of `rocm-smi --showmeminfo vram --json` (bytes, devices `card0`, `card1`, …).
 * Text around the JSON object is ignored; `undefined` when there is no card in it.
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
      uuid: null,
      name: key,
      vendor: 'amd',
      totalBytes,
      freeBytes:
        totalBytes === null || usedBytes === null ? null : Math.max(0, totalBytes - usedBytes),
    });
  }
  return devices.length === 0 ? undefined : devices.sort((a, b) => a.ordinal - b.ordinal);
}
