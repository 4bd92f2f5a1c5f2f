import {
  assertBoolean,
  assertFunction,
  assertNonEmptyString,
  assertObject,
  assertPositive,
  assertTimeout,
  checkEnv,
  givenKeys,
} from '../core/check.js';
import { closest, type Field, type Schema } from '../core/options.js';
import type { SystemInformationLike } from '../sources/host.js';

/** Where host RAM and Node's own limit are read from; replace them to test failures. */
export interface HostProbes {
  /** Loads systeminformation. Default: a dynamic `import('systeminformation')`. */
  loadSystemInformation?: (() => Promise<SystemInformationLike>) | null;
  /** The fallback. Default: `os.totalmem`. */
  totalmem?: (() => number) | null;
  /** Node's reading of the cgroup limit, used only where no cgroup hierarchy is found. Default: `process.constrainedMemory`, on the real root only. */
  constrainedMemory?: (() => number) | null;
  /** The most the V8 heap may grow to, in bytes. Default: `v8.getHeapStatistics().heap_size_limit`. */
  heapSizeLimit?: (() => number) | null;
}

/** Options of every detecting function. `null`, for any of them, means "not given". */
export interface DetectOptions {
  /** Where `/proc` and `/sys` are read from. Default: `'/'`. */
  fsRoot?: string | null;
  /** The environment holding Slurm's variables. Default: `process.env`. */
  env?: Record<string, string | undefined> | null;
  /** Time budget for systeminformation before `os.totalmem()` answers, in ms. Default: 1000. */
  timeoutMs?: number | null;
  /** How long limits and available memory are reused before they are read again, and the first delay before a failed systeminformation is asked again, in ms. Default: 1000. */
  ttlMs?: number | null;
  /** Read everything again, bypassing the cache. Default: `false`. */
  refresh?: boolean | null;
  /** Sources of host RAM. Each distinct object has its own cache. Default: systeminformation and `os.totalmem`. */
  probes?: HostProbes | null;
}

/** The detection options with their defaults. */
export interface ResolvedDetect {
  fsRoot: string;
  env: Record<string, string | undefined>;
  timeoutMs: number;
  ttlMs: number;
  refresh: boolean;
  probes: HostProbes;
}

/** The name of every probe, of host and GPU detection: one object may serve both. */
const PROBES = ['loadSystemInformation', 'totalmem', 'constrainedMemory', 'heapSizeLimit'];

/**
 * Checks an object of probes: each of `names` given is a function, and a function under a name
 * no probe has is a misspelt probe, a `TypeError`. Other keys (a test's counters) are its own.
 */
export function probesField(names: readonly string[]): Field {
  return (name, value) => {
    assertObject(name, value);
    for (const probe of names) {
      if (value[probe] != null) assertFunction(`${name}.${probe}`, value[probe]);
    }
    for (const key of givenKeys(value)) {
      if (typeof value[key] !== 'function' || PROBES.includes(key)) continue;
      const hint = closest(key, PROBES);
      throw new TypeError(
        `Unknown probe \`${name}.${key}\`${hint === undefined ? '' : `: did you mean \`${name}.${hint}\`?`}`,
      );
    }
  };
}

/** The names of {@link DetectOptions}. */
export const DETECT_KEYS: readonly (keyof DetectOptions)[] = [
  'fsRoot',
  'env',
  'timeoutMs',
  'ttlMs',
  'refresh',
  'probes',
];

/** The options of every detecting function, each with its check. */
export const DETECT_FIELDS: Schema = {
  fsRoot: assertNonEmptyString,
  env: checkEnv,
  timeoutMs: assertTimeout,
  ttlMs: (name, value) => assertPositive(name, value, true),
  refresh: assertBoolean,
  probes: probesField(PROBES),
};

const DEFAULT_TIMEOUT_MS = 1000;
const DEFAULT_TTL_MS = 1000;
/** The probes of the real machine: one object, so that they share one cache. */
const DEFAULT_PROBES: HostProbes = {};

/** Fills in the defaults of options already checked against {@link DETECT_FIELDS}. */
export function resolveDetect(options: DetectOptions): ResolvedDetect {
  return {
    fsRoot: options.fsRoot ?? '/',
    env: options.env ?? process.env,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    ttlMs: options.ttlMs ?? DEFAULT_TTL_MS,
    refresh: options.refresh ?? false,
    probes: options.probes ?? DEFAULT_PROBES,
  };
}
