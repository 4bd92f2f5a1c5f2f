import { parseDecimal } from '../../core/numbers.js';
import type { DeviceVendor } from '../../core/types.js';
import { MIB } from '../../core/units.js';

/** Where a MIG instance sits: its GPU's UUID, its GPU instance and compute instance ids. */
export interface MigPlace {
  parent: string;
  gpuInstance: number;
  computeInstance: number;
}

/**
 * A device as its source reports it, before visibility; `ordinal` is the source's own number (a
 * MIG instance has its GPU's).
 */
export interface RawDevice {
  ordinal: number;
  uuid: string | null;
  name: string;
  vendor: DeviceVendor;
  totalBytes: number | null;
  freeBytes: number | null;
  /** It allocates from the host's memory (nvidia-smi's `[N/A]` total outside MIG). */
  unifiedMemory?: boolean;
  /** Set for a MIG instance. */
  mig?: MigPlace;
}

/** `N/A`, `[N/A]`, and nvidia-smi's other bracketed non-values (`[Not Supported]`, `[Unknown Error]`). */
export const NOT_AVAILABLE: RegExp = /^(?:N\/A|\[[^\]]*\])$/i;

/** A memory field in MiB as text: bytes, `null` for N/A, `undefined` for anything else. */
export function mibText(text: string): number | null | undefined {
  if (NOT_AVAILABLE.test(text)) return null;
  const mib = parseDecimal(text);
  return mib === undefined || mib < 0 ? undefined : Math.round(mib * MIB);
}

/** A memory figure in MiB as a number: bytes, or `null` when it is no non-negative finite number. */
export function mibNumber(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0
    ? Math.round(value * MIB)
    : null;
}
