import type { DetectOptions, HostProbes } from './memoryDetect.js';
import { assertPositive, received } from './parse.js';

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

const PROBES = ['loadSystemInformation', 'totalmem'] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function assertObject(name: string, value: unknown): asserts value is Record<string, unknown> {
  if (!isObject(value)) {
    throw new TypeError(`Expected \`${name}\` to be an object, got ${received(value)}`);
  }
}

/** Throws unless every value of `env` is a string or `undefined`; `process.env` always is. */
function assertEnv(env: unknown): asserts env is Record<string, string | undefined> {
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
    assertPositive('timeoutMs', timeoutMs);
    if (timeoutMs > MAX_TIMEOUT_MS) {
      throw new RangeError(
        `Expected \`timeoutMs\` to be at most ${MAX_TIMEOUT_MS} (2 ** 31 - 1), got ${received(timeoutMs)}`,
      );
    }
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
