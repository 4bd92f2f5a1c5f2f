import { assertPlainObject, expected, givenKeys } from './check.js';

/**
 * Checks one option's value, given its name: throws a `TypeError` or `RangeError` naming it.
 * What it returns, unless `undefined`, is the value to use: a copy of what was checked.
 */
export type Field = (name: string, value: unknown) => unknown;

/** The options an options type takes, each with its check. */
export type Schema = Readonly<Record<string, Field>>;

/** The edit distance between two names, case-insensitive. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let row = Array.from({ length: y.length + 1 }, (_, index) => index);
  for (let i = 1; i <= x.length; i++) {
    const next = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      next[j] = Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (row[j - 1] ?? 0) + cost);
    }
    row = next;
  }
  return row[y.length] ?? 0;
}

/** How many characters `a` and `b` share from their start. */
function sharedStart(a: string, b: string): number {
  let length = 0;
  while (length < a.length && a[length] === b[length]) length += 1;
  return length;
}

/** The known name closest to `name`, when one is close enough to be what was meant. */
export function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  const lower = name.toLowerCase();
  for (const candidate of known) {
    const other = candidate.toLowerCase();
    // A prefix either way (`align` for `alignTo`), or a word of it (`fraction` for
    // `memoryFraction`), is as good as one wrong letter; so is a long shared start
    // (`totalMemoryGb`, the command's, for `totalMemoryBytes`).
    const score =
      other.startsWith(lower) ||
      lower.startsWith(other) ||
      (lower.length >= 4 && other.includes(lower)) ||
      sharedStart(lower, other) >= 8
        ? 1
        : distance(name, other);
    if (score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return bestScore <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/**
 * The one check of an options object: `undefined` and `null` are no options; anything but a
 * plain object is a `TypeError`; its options are its enumerable properties, inherited ones too
 * (`Object.create(defaults)`); an unknown key is a `TypeError` naming it and the closest known one;
 * each known key is checked by its field. Returns a copy without the keys whose value is `null`
 * or `undefined` ("not given"). `within` names an object nested in options (`calibration`):
 * its keys are then named by their path (`calibration.key`).
 */
export function checkOptions<T extends object>(value: unknown, schema: Schema, within?: string): T {
  if (value === undefined || value === null) return {} as T;
  assertPlainObject(within ?? 'options', value);
  const path = (key: string): string => (within === undefined ? key : `${within}.${key}`);
  const known = Object.keys(schema);
  const checked: Record<string, unknown> = {};
  for (const key of givenKeys(value)) {
    const option = value[key];
    const field = Object.hasOwn(schema, key) ? schema[key] : undefined;
    if (field === undefined) {
      const hint = closest(key, known);
      throw new TypeError(
        `Unknown option \`${path(key)}\`${hint === undefined ? '' : `: did you mean \`${path(hint)}\`?`}`,
      );
    }
    if (option === undefined || option === null) continue;
    checked[key] = field(path(key), option) ?? option;
  }
  return checked as T;
}

/**
 * Normalizes the `number | options` shorthand: a number is `{ memoryFraction }`, anything else
 * goes through {@link checkOptions}. A string or other primitive is a `TypeError`.
 */
export function checkFractionOrOptions<T extends object>(
  value: unknown,
  schema: Schema,
  [name, what]: readonly [string, string] = ['memoryFraction', 'a number or an options object'],
): T {
  if (typeof value === 'number') return checkOptions<T>({ memoryFraction: value }, schema);
  if (
    value !== undefined &&
    value !== null &&
    (typeof value !== 'object' || Array.isArray(value))
  ) {
    throw expected(TypeError, name, what, value);
  }
  return checkOptions<T>(value, schema);
}

/** The options among `keys` that are given (neither `undefined` nor `null`), for another call. */
export function pick<T extends object, K extends keyof T>(
  options: T,
  keys: readonly K[],
): Partial<Pick<T, K>> {
  const picked: Partial<Pick<T, K>> = {};
  for (const key of keys) {
    if (options[key] != null) picked[key] = options[key];
  }
  return picked;
}
