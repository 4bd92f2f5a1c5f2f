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
        return JSON.stringify(value) ?? 'an object';
      } catch {
        return 'an object';
      }
    default:
      return String(value);
  }
}

/** The `TypeError` (wrong type) or `RangeError` (wrong value) that names `name` and the value. */
export function expected(
  ErrorType: typeof TypeError | typeof RangeError,
  name: string,
  what: string,
  value: unknown,
): Error {
  return new ErrorType(`Expected \`${name}\` to be ${what}, got ${received(value)}`);
}

function assertNumber(name: string, value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number') throw expected(TypeError, name, what, value);
}

/** Throws unless `value` is a safe integer at or above 0 (above 0 with `positive`): `what` it must be. */
function checkCount(name: string, value: unknown, what: string, positive: boolean): void {
  assertNumber(name, value, what);
  if (Number.isInteger(value) && value > Number.MAX_SAFE_INTEGER) {
    throw expected(RangeError, name, 'at most Number.MAX_SAFE_INTEGER', value);
  }
  if (!Number.isInteger(value) || value < 0 || (positive && value === 0)) {
    throw expected(RangeError, name, what, value);
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
  checkCount(name, value, positive ? 'a positive integer' : 'a non-negative integer', positive);
}

/** Throws unless `value` is `null` (unknown) or a safe integer at or above 0, a size in bytes. */
export function assertCountOrNull(name: string, value: unknown): asserts value is number | null {
  if (value !== null) checkCount(name, value, 'a non-negative integer or null', false);
}

/** Throws unless `value` is a safe integer of at least 1; `or` adds to what is expected (`" or 'auto'"`). */
export function assertPositiveInteger(
  name: string,
  value: unknown,
  or = '',
): asserts value is number {
  const what = `a positive integer${or}`;
  assertNumber(name, value, what);
  if (!Number.isSafeInteger(value) || value < 1) throw expected(RangeError, name, what, value);
}

/** Throws unless `value` is a finite number above zero (or at or above zero with `allowZero`). */
export function assertPositive(
  name: string,
  value: unknown,
  allowZero = false,
): asserts value is number {
  const what = allowZero ? 'a finite number >= 0' : 'a finite number > 0';
  assertNumber(name, value, what);
  if (!Number.isFinite(value) || value < 0 || (value === 0 && !allowZero)) {
    throw expected(RangeError, name, what, value);
  }
}

/** The largest multiplier of a Jacobian's bytes taken: measured ones are 1 to 100. */
export const MAX_MULTIPLIER = 1e6;

/** Throws unless `value` is a multiplier of memory: above 0, at most {@link MAX_MULTIPLIER}. */
export function assertMultiplier(name: string, value: unknown): asserts value is number {
  assertPositive(name, value);
  if (value > MAX_MULTIPLIER) {
    throw expected(RangeError, name, `a number above 0 up to ${MAX_MULTIPLIER}`, value);
  }
}

/** Throws unless `value` is a finite number. */
export function assertFinite(name: string, value: unknown): asserts value is number {
  assertNumber(name, value, 'a finite number');
  if (!Number.isFinite(value)) throw expected(RangeError, name, 'a finite number', value);
}

/** Throws unless `value` is a finite number in `[min, max)`, or `[min, max]` with `closed`. */
export function assertBetween(
  name: string,
  value: unknown,
  [min, max]: readonly [number, number],
  closed: boolean,
): asserts value is number {
  assertFinite(name, value);
  const what = `a number from ${min} to ${closed ? `${max}` : `below ${max}`}`;
  if (value < min || value > max || (!closed && value === max)) {
    throw expected(RangeError, name, what, value);
  }
}

/** Throws unless `value` is one of `choices`: a `RangeError` for another string, else a `TypeError`. */
export function assertOneOf<T extends string>(
  name: string,
  value: unknown,
  choices: readonly T[],
): asserts value is T {
  if (choices.includes(value as T)) return;
  const list = choices.map((choice) => `'${choice}'`).join(' or ');
  throw expected(typeof value === 'string' ? RangeError : TypeError, name, list, value);
}

/** The longest delay `setTimeout` honours: past it, Node.js fires at once (TimeoutOverflowWarning). */
export const MAX_TIMEOUT_MS: number = 2 ** 31 - 1;

/** Throws unless `value` is a finite number above 0 that `setTimeout` honours. */
export function assertTimeout(name: string, value: unknown): asserts value is number {
  assertPositive(name, value);
  if (value > MAX_TIMEOUT_MS) {
    throw expected(RangeError, name, `at most ${MAX_TIMEOUT_MS} (2 ** 31 - 1)`, value);
  }
}

/** Whether `value` is a plain object: not `null`, not an array. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The class a non-plain object is an instance of (`Map`), or `undefined` for a plain object: one
 * made by a literal, by `Object.create(null)`, or by `Object.create` of a plain object.
 */
function classOf(value: object): string | undefined {
  for (
    let proto: object | null = Object.getPrototypeOf(value);
    proto !== null && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    if (!Object.hasOwn(proto, 'constructor')) continue;
    const { name } = (proto as { constructor: { name?: unknown } }).constructor;
    // Another realm's Object.prototype (a vm context) is still a plain object's.
    if (name !== 'Object') return typeof name === 'string' && name !== '' ? name : 'a class';
  }
  return undefined;
}

/**
 * Throws unless `value` is a plain object: a `Map`, or an instance of a class whose options are
 * getters, would be read as no options at all.
 */
export function assertPlainObject(
  name: string,
  value: unknown,
): asserts value is Record<string, unknown> {
  assertObject(name, value);
  const kind = classOf(value);
  if (kind !== undefined) {
    throw new TypeError(`Expected \`${name}\` to be a plain object, got an instance of ${kind}`);
  }
}

/** Throws unless `value` is an object (not `null`, not an array). */
export function assertObject(
  name: string,
  value: unknown,
): asserts value is Record<string, unknown> {
  if (!isObject(value)) throw expected(TypeError, name, 'an object', value);
}

/** Throws unless `value` is a boolean. */
export function assertBoolean(name: string, value: unknown): asserts value is boolean {
  if (typeof value !== 'boolean') throw expected(TypeError, name, 'a boolean', value);
}

/** Throws unless `value` is a non-empty string. */
export function assertNonEmptyString(name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string') throw expected(TypeError, name, 'a non-empty string', value);
  if (value === '') throw expected(RangeError, name, 'a non-empty string', value);
}

/** Throws unless `value` is a function. */
export function assertFunction(name: string, value: unknown): asserts value is () => unknown {
  if (typeof value !== 'function') throw expected(TypeError, name, 'a function', value);
}

/**
 * The enumerable keys of `value` and of its prototypes below `Object.prototype`: what was given
 * (`Object.create(defaults)` included), never what a library added to every object.
 */
export function givenKeys(value: object): string[] {
  const keys = new Set<string>();
  for (
    let at: object | null = value;
    at !== null && at !== Object.prototype;
    at = Object.getPrototypeOf(at)
  ) {
    for (const key of Object.keys(at)) keys.add(key);
  }
  return [...keys];
}

/**
 * Checks an environment: an object whose variables, its enumerable properties, inherited ones
 * too (as `child_process` reads an `env`) but not `Object.prototype`'s, are strings or
 * `undefined`. Returns them as a copy of its own, so that every later read sees what was
 * checked; `process.env` is returned as is.
 */
export function checkEnv(name: string, env: unknown): Record<string, string | undefined> {
  assertObject(name, env);
  if (env === process.env) return env as Record<string, string | undefined>;
  const copy: Record<string, string> = Object.create(null);
  for (const key of givenKeys(env)) {
    const value = env[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') {
      throw expected(TypeError, `${name}.${key}`, 'a string or undefined', value);
    }
    copy[key] = value;
  }
  return copy;
}
