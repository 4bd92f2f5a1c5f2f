const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Parses a plain decimal number (`0.6`, `.5`, `1e-1`), trimmed; `undefined` for anything else or non-finite. */
export function parseDecimal(text: string): number | undefined {
  const trimmed = text.trim();
  if (!DECIMAL.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : undefined;
}

const INTEGER = /^\d+$/;

/** Parses a non-negative decimal integer (digits only, trimmed), rounded past 2**53; `undefined` otherwise. */
export function parseInteger(text: string): number | undefined {
  const trimmed = text.trim();
  return INTEGER.test(trimmed) ? Number(trimmed) : undefined;
}

const DIGITS = String.raw`\d+(?:_\d+)*`;
const USER_NUMBER = new RegExp(
  `^[+-]?(?:${DIGITS}(?:\\.(?:${DIGITS})?)?|\\.${DIGITS})(?:[eE][+-]?${DIGITS})?$`,
);

/**
 * Parses a number as people write it on a command line: `0.5`, `-5`, `1e6`, `1_000_000`
 * (underscores between digits, as in JavaScript and Python). `undefined` for anything else or
 * non-finite.
 */
export function parseUserNumber(text: string): number | undefined {
  const trimmed = text.trim();
  if (!USER_NUMBER.test(trimmed)) return undefined;
  const value = Number(trimmed.replaceAll('_', ''));
  return Number.isFinite(value) ? value : undefined;
}
