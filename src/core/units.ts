/** Bytes in one "GB" as this library counts it: one GiB, 1024³ bytes, as in the original. */
export const GIB: number = 1024 ** 3;
/** Bytes in one MiB. */
export const MIB: number = 1024 ** 2;

/** Digits of a non-negative integer `cents`, with the last two after a decimal point. */
function fromCents(cents: bigint): string {
  const digits = cents.toString().padStart(3, '0');
  return `${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

/**
 * Formats a number with two decimals exactly as Python's `'%.2f' % value` (and `f'{value:.2f}'`):
 * the decimal nearest to the exact binary value, an exact half rounded to even, every digit of a
 * huge value (`750000000000000045806419165184.00`, never an exponent), and `inf`, `-inf`, `nan`.
 */
export function formatGb(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value < 0 || Object.is(value, -0)) return `-${formatGb(-value)}`;
  if (value === Number.POSITIVE_INFINITY) return 'inf';
  // From 2 ** 53 on every double is an integer: all its digits, as Python prints them.
  if (value >= 2 ** 53) return `${BigInt(value)}.00`;
  // An exact half of a cent is a multiple of 1/8 with an odd number of eighths, as is every value
  // from 2 ** 50 on; `value * 8` is exact, and BigInt keeps the cents exact.
  const eighths = value * 8;
  if (Number.isInteger(eighths)) {
    const exact = BigInt(eighths) * 25n; // cents × 2
    const cents = exact / 2n;
    return fromCents(exact % 2n === 0n || cents % 2n === 0n ? cents : cents + 1n);
  }
  // Not a multiple of 1/8, so not a tie; and below 2 ** 50, where toFixed gives no exponent.
  return value.toFixed(2);
}

/** Bytes in GB with two decimals, as the original writes them: `12.00 GB`. */
export function gb(bytes: number): string {
  return `${formatGb(bytes / GIB)} GB`;
}

/** Bytes in units of 1024, as plans write sizes: `12.00 GB`, `3.50 MB`, `1.25 KB`, `512 bytes`. */
export function formatSize(bytes: number): string {
  if (bytes >= GIB) return gb(bytes);
  if (bytes >= MIB) return `${(bytes / MIB).toFixed(2)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(2)} KB`;
  return `${Math.floor(bytes)} bytes`;
}

/** A multiplier as a reason shows it, to four significant digits: `6.5`, `63.8`, never `63.800000000000004`. */
export function formatFactor(value: number): string {
  return String(Number(value.toPrecision(4)));
}

/** A non-negative integer with its digits grouped by commas, whatever the locale: `1,234,567`. */
export function grouped(value: number): string {
  return String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
