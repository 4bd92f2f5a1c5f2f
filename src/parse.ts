/** Shows a received value in an error message: `-1`, `'abc'`, `10n`, `null`, `[0.5]`. */
export function received(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return `'${value}'`;
    case 'bigint':
      return `${value}n`;
    case 'function':
      return 'a function';
    case 'object':
      if (value === null) return 'null';
      try {
        return JSON.stringify(value);
      } catch {
        return 'an object';
      }
    default:
      return String(value);
  }
}

function assertNumber(name: string, value: unknown, expected: string): asserts value is number {
  if (typeof value !== 'number') {
    throw new TypeError(`Expected \`${name}\` to be ${expected}, got ${received(value)}`);
  }
}

/**
 * Throws unless `value` is a safe integer at or above 0 (a count of points or parameters), or
 * above 0 with `positive` (a size in bytes). An integer past 2 ** 53 - 1 is named as too large.
 */
export function assertCount(
  name: string,
  value: unknown,
  positive = false,
): asserts value is number {
  const expected = positive ? 'a positive integer' : 'a non-negative integer';
  assertNumber(name, value, expected);
  if (Number.isInteger(value) && value > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(
      `Expected \`${name}\` to be at most Number.MAX_SAFE_INTEGER, got ${received(value)}`,
    );
  }
  if (!Number.isInteger(value) || value < 0 || (positive && value === 0)) {
    throw new RangeError(`Expected \`${name}\` to be ${expected}, got ${received(value)}`);
  }
}

/** Throws unless `value` is a finite number above zero (or at or above zero with `allowZero`). */
export function assertPositive(
  name: string,
  value: unknown,
  allowZero = false,
): asserts value is number {
  const expected = allowZero ? 'a finite number >= 0' : 'a finite number > 0';
  assertNumber(name, value, expected);
  if (!Number.isFinite(value) || value < 0 || (value === 0 && !allowZero)) {
    throw new RangeError(`Expected \`${name}\` to be ${expected}, got ${received(value)}`);
  }
}

/** Throws unless `value` is a finite number. */
export function assertFinite(name: string, value: unknown): asserts value is number {
  assertNumber(name, value, 'a finite number');
  if (!Number.isFinite(value)) {
    throw new RangeError(`Expected \`${name}\` to be a finite number, got ${received(value)}`);
  }
}

/** Throws unless `value` is one of `choices`. */
export function assertOneOf<T extends string>(
  name: string,
  value: unknown,
  choices: readonly T[],
): asserts value is T {
  if (!choices.includes(value as T)) {
    const list = choices.map((choice) => `'${choice}'`).join(' or ');
    const ErrorType = typeof value === 'string' ? RangeError : TypeError;
    throw new ErrorType(`Expected \`${name}\` to be ${list}, got ${received(value)}`);
  }
}

/**
 * Normalizes the `number | options` shorthand: a number is the memory fraction; `undefined` and
 * `null` (not given) are no options. Anything else than a number or an options object is a `TypeError`.
 */
export function toOptions<T extends { memoryFraction?: number | null }>(
  value: number | T | null | undefined,
): T {
  if (value === undefined || value === null) return {} as T;
  if (typeof value === 'number') return { memoryFraction: value } as T;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(
      `Expected \`memoryFraction\` to be a number or an options object, got ${received(value)}`,
    );
  }
  return value;
}

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
