import type { DeviceProbes } from './device.js';
import type { DetectOptions, HostProbes } from './memoryDetect.js';

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

/** The longest delay `setTimeout` honours: past it, Node.js fires at once (TimeoutOverflowWarning). */
export const MAX_TIMEOUT_MS: number = 2 ** 31 - 1;

/** The options of the detecting functions, checked, with every `null` turned into "not given". */
export interface CheckedDetectOptions {
  fsRoot?: string;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  ttlMs?: number;
  refresh?: boolean;
  probes?: HostProbes;
}

const PROBES = ['loadSystemInformation', 'totalmem', 'constrainedMemory'] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function assertObject(name: string, value: unknown): asserts value is Record<string, unknown> {
  if (!isObject(value)) {
    throw new TypeError(`Expected \`${name}\` to be an object, got ${received(value)}`);
  }
}

/** Throws unless `env` is an object whose values are strings or `undefined`; `process.env` always is. */
export function assertEnv(env: unknown): asserts env is Record<string, string | undefined> {
  assertObject('env', env);
  if (env === process.env) return;
  for (const [key, value] of Object.entries(env)) {
    if (typeof value !== 'string' && value !== undefined) {
      throw new TypeError(
        `Expected \`env.${key}\` to be a string or undefined, got ${received(value)}`,
      );
    }
  }
}

function assertProbes(probes: unknown): asserts probes is HostProbes {
  assertObject('probes', probes);
  for (const name of PROBES) {
    const probe = probes[name];
    if (probe != null && typeof probe !== 'function') {
      throw new TypeError(`Expected \`probes.${name}\` to be a function, got ${received(probe)}`);
    }
  }
}

/** Throws unless `probes` is an object whose `loadSystemInformation`, if given, is a function. */
export function assertDeviceProbes(name: string, probes: unknown): asserts probes is DeviceProbes {
  assertObject(name, probes);
  const load = probes.loadSystemInformation;
  if (load != null && typeof load !== 'function') {
    throw new TypeError(
      `Expected \`${name}.loadSystemInformation\` to be a function, got ${received(load)}`,
    );
  }
}

/** Throws unless `value` is a finite number above 0 that `setTimeout` honours. */
export function assertTimeout(name: string, value: unknown): asserts value is number {
  assertPositive(name, value);
  if (value > MAX_TIMEOUT_MS) {
    throw new RangeError(
      `Expected \`${name}\` to be at most ${MAX_TIMEOUT_MS} (2 ** 31 - 1), got ${received(value)}`,
    );
  }
}

/**
 * Checks the options of every detecting function before any I/O: a `TypeError` or `RangeError`
 * naming the option. `null`, for the options or any field, means "not given", as `undefined` does.
 */
export function checkDetectOptions(
  options: DetectOptions | null | undefined,
): CheckedDetectOptions {
  if (options == null) return {};
  assertObject('options', options);
  const { fsRoot, env, timeoutMs, ttlMs, refresh, probes } = options;
  const checked: CheckedDetectOptions = {};
  if (fsRoot != null) {
    if (typeof fsRoot !== 'string') {
      throw new TypeError(`Expected \`fsRoot\` to be a non-empty string, got ${received(fsRoot)}`);
    }
    if (fsRoot === '') throw new RangeError("Expected `fsRoot` to be a non-empty string, got ''");
    checked.fsRoot = fsRoot;
  }
  if (env != null) {
    assertEnv(env);
    checked.env = env;
  }
  if (timeoutMs != null) {
    assertTimeout('timeoutMs', timeoutMs);
    checked.timeoutMs = timeoutMs;
  }
  if (ttlMs != null) {
    assertPositive('ttlMs', ttlMs, true);
    checked.ttlMs = ttlMs;
  }
  if (refresh != null) {
    if (typeof refresh !== 'boolean') {
      throw new TypeError(`Expected \`refresh\` to be a boolean, got ${received(refresh)}`);
    }
    checked.refresh = refresh;
  }
  if (probes != null) {
    assertProbes(probes);
    checked.probes = probes;
  }
  return checked;
}

/** The GPU options of the threshold functions. `null`, for any of them, means "not given". */
export interface DeviceChoice {
  device?: number | null;
  deviceTimeoutMs?: number | null;
  deviceProbes?: DeviceProbes | null;
}

/** The GPU options, checked, with every `null` turned into "not given". */
export interface CheckedDeviceChoice {
  device?: number;
  deviceTimeoutMs?: number;
  deviceProbes?: DeviceProbes;
}

/**
 * Checks the GPU options of the threshold functions before any I/O or spawn: a `TypeError` or
 * `RangeError` naming the option. They are checked whether or not `device` is given.
 */
export function checkDeviceChoice(options: DeviceChoice): CheckedDeviceChoice {
  const { device, deviceTimeoutMs, deviceProbes } = options;
  const checked: CheckedDeviceChoice = {};
  if (device != null) {
    assertCount('device', device);
    checked.device = device;
  }
  if (deviceTimeoutMs != null) {
    assertTimeout('deviceTimeoutMs', deviceTimeoutMs);
    checked.deviceTimeoutMs = deviceTimeoutMs;
  }
  if (deviceProbes != null) {
    assertDeviceProbes('deviceProbes', deviceProbes);
    // A probes object without a loader is the default one, and shares its cache.
    if (deviceProbes.loadSystemInformation != null) checked.deviceProbes = deviceProbes;
  }
  return checked;
}
