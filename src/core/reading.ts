/**
 * What one source read of one figure: a number of bytes (0 included: a full cgroup, no memory
 * available), no limit at all, or nothing usable, with why. Every source answers with one, so
 * that "unknown" is never taken for a number, nor a number for "unknown".
 */
export type Reading =
  | { readonly kind: 'bytes'; readonly bytes: number; readonly origin: string }
  | { readonly kind: 'unlimited'; readonly origin: string }
  | { readonly kind: 'unknown'; readonly reason: string };

/** A figure of bytes read from `origin`. */
export function bytes(value: number, origin: string): Reading {
  return { kind: 'bytes', bytes: value, origin };
}

/** No limit, as `origin` says. */
export function unlimited(origin: string): Reading {
  return { kind: 'unlimited', origin };
}

/** Nothing usable, and why. */
export function unknown(reason: string): Reading {
  return { kind: 'unknown', reason };
}

/**
 * Reads a number a source gave: a non-negative integer is bytes; one past 2 ** 53 - 1 is no
 * exact figure, which every sentinel is (v1's page-rounded 2 ** 63, Node's UINT64_MAX), so it
 * is `unlimited`; anything else (negative, fractional, NaN, not a number) is `unknown`. With
 * `zeroIsUnlimited`, 0 is no limit (Slurm, Node's `constrainedMemory()`); else 0 is 0 bytes.
 */
export function fromNumber(value: unknown, origin: string, zeroIsUnlimited = false): Reading {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    return unknown(`${origin} gave ${String(value)}`);
  }
  if (value > Number.MAX_SAFE_INTEGER) return unlimited(origin);
  if (!Number.isInteger(value) || value < 0) return unknown(`${origin} gave ${value}`);
  return value === 0 && zeroIsUnlimited ? unlimited(origin) : bytes(value, origin);
}

/** Reads a file's text: `max` is no limit, digits are bytes (past 2 ** 53 no limit), else unknown. */
export function fromText(text: string | undefined | null, origin: string): Reading {
  if (typeof text !== 'string') return unknown(`${origin} is unreadable`);
  const trimmed = text.trim();
  if (trimmed === 'max') return unlimited(origin);
  if (!/^\d+$/.test(trimmed))
    return unknown(`${origin} holds ${JSON.stringify(trimmed.slice(0, 40))}`);
  return fromNumber(Number(trimmed), origin);
}

/** The bytes of a reading, or `null` unless it is one. */
export function bytesOf(reading: Reading): number | null {
  return reading.kind === 'bytes' ? reading.bytes : null;
}

/** The reading with the fewest bytes among those that are bytes, else the first unknown, else unlimited. */
export function smallest(readings: readonly Reading[], none: string): Reading {
  let best: Reading | undefined;
  for (const reading of readings) {
    if (reading.kind === 'bytes') {
      if (best?.kind !== 'bytes' || reading.bytes < best.bytes) best = reading;
    } else if (reading.kind === 'unknown' && best === undefined) {
      best = reading;
    }
  }
  return best ?? unlimited(none);
}
