import {
  type DeviceMemory,
  type DeviceOptions,
  type DeviceProbes,
  type DeviceSource,
  detectDeviceMemory,
  findDevice,
} from './device.js';
import { logger, type WarningCode, warnOnce } from './diagnostics.js';
import {
  type DetectionMethod,
  type DetectOptions,
  detectMemory,
  detectMemorySync,
  type LimitSource,
  type MemoryReport,
} from './memoryDetect.js';
import {
  assertCount,
  assertFinite,
  assertOneOf,
  type CheckedDetectOptions,
  type CheckedDeviceChoice,
  checkDetectOptions,
  checkDeviceChoice,
  parseDecimal,
  toOptions,
} from './parse.js';
import { formatGb, GIB } from './units.js';

/** The fraction of memory used when neither argument nor environment sets one. */
export const DEFAULT_MEMORY_FRACTION = 0.75;
/** The environment variable that sets the memory fraction. */
export const MEMORY_FRACTION_ENV_VAR = 'NLSQ_MEMORY_FRACTION';
/** The environment variable that sets the memory fraction of a GPU (`device`), before `NLSQ_MEMORY_FRACTION`. */
export const GPU_MEMORY_FRACTION_ENV_VAR = 'NLSQ_GPU_MEMORY_FRACTION';
/** The threshold in GB used when memory cannot be detected. */
export const FALLBACK_THRESHOLD_GB = 16;
/** The smallest fraction used; lower ones are clamped to it. */
export const MIN_MEMORY_FRACTION = 0.1;
/** The largest fraction used; higher ones are clamped to it. */
export const MAX_MEMORY_FRACTION = 0.9;

/** Where the effective memory fraction came from. */
export type FractionSource = 'argument' | 'env' | 'default';

/** Which memory figure the fraction is applied to. */
export type ThresholdBasis = 'total' | 'available';

/** How a threshold was computed. */
export interface ThresholdInfo {
  /** The memory the fraction was applied to, in GB; 0 on fallback. */
  totalMemoryGb: number;
  /** The effective fraction, after clamping. */
  memoryFraction: number;
  /** Where the fraction came from. */
  source: FractionSource;
  /**
   * Which source produced the memory: for host RAM a `DetectionMethod`, or `null` when host RAM
   * was unknown and the limit alone set the memory; for a `device`, the `DeviceSource` that
   * reported the GPU (`'nvidia-smi'`, `'rocm-smi'` or `'systeminformation'`); `'override'` for
   * `totalMemoryBytes`, `'fallback'` when nothing was detected.
   */
  detectionMethod: DetectionMethod | DeviceSource | 'override' | 'fallback' | null;
  /** Where the limit that capped host RAM came from, if any; `null` for a `device`. */
  limitSource: LimitSource | null;
  /** The memory figure the fraction was applied to. */
  basis: ThresholdBasis;
}

/**
 * Options of the threshold functions. `null`, for any of them, means "not given". With `device`,
 * the budget is that GPU's memory: host RAM is not read, and `fsRoot`, `timeoutMs` and `probes`
 * are checked but unused; `env`, `ttlMs` and `refresh` serve the GPU's detection.
 */
export interface ThresholdOptions extends DetectOptions {
  /**
   * Fraction of memory to allow, clamped to [0.1, 0.9]. Default: `NLSQ_MEMORY_FRACTION`, else
   * 0.75; with `device`, `NLSQ_GPU_MEMORY_FRACTION` first.
   */
  memoryFraction?: number | null;
  /** A known budget in bytes, a positive safe integer (GPU memory, a scheduler's grant, tests); skips detection and is used as a total. */
  totalMemoryBytes?: number | null;
  /** Apply the fraction to the total this process may use, or to what is available now. Default: `'total'`. */
  basis?: ThresholdBasis | null;
  /**
   * The `index` of a GPU among those of {@link detectDeviceMemory}: the budget is its memory
   * (`totalBytes`, or `freeBytes` with `basis: 'available'`) instead of host RAM. Asynchronous
   * functions only, unless `totalMemoryBytes` gives the budget. Default: none (host RAM).
   */
  device?: number | null;
  /** Time budget for the GPU's detection, tools included, in ms. Default: 5000. */
  deviceTimeoutMs?: number | null;
  /** Replaces systeminformation, the last source of GPU memory (tests). Default: systeminformation. */
  deviceProbes?: DeviceProbes | null;
}

/** A memory threshold, in GB and bytes, with how it was computed. */
export interface AdaptiveThreshold {
  /** The threshold in GB (bytes / 1024³). */
  thresholdGb: number;
  /** The threshold in bytes, an integer: `Math.floor(thresholdGb * 1024 ** 3)`. */
  thresholdBytes: number;
  /** How it was computed. */
  info: ThresholdInfo;
}

const BASES = ['total', 'available'] as const;
const log = logger('threshold');

interface Fraction {
  memoryFraction: number;
  source: FractionSource;
  /** Where it was read: `'argument'`, an environment variable's name, or `'default'`. */
  from: string;
}

/** An environment variable that sets the fraction, and its warning codes. */
interface FractionVariable {
  name: string;
  invalid: WarningCode;
  clamped: WarningCode;
}

const HOST_VARIABLE: FractionVariable = {
  name: MEMORY_FRACTION_ENV_VAR,
  invalid: 'NLSQ_MEMORY_FRACTION_INVALID',
  clamped: 'NLSQ_MEMORY_FRACTION_CLAMPED',
};
const GPU_VARIABLE: FractionVariable = {
  name: GPU_MEMORY_FRACTION_ENV_VAR,
  invalid: 'NLSQ_GPU_MEMORY_FRACTION_INVALID',
  clamped: 'NLSQ_GPU_MEMORY_FRACTION_CLAMPED',
};

/**
 * The effective fraction: argument, else the environment (for a GPU `NLSQ_GPU_MEMORY_FRACTION`,
 * then `NLSQ_MEMORY_FRACTION`), else default; clamped with a warning. An invalid variable is
 * skipped with a warning.
 */
function resolveFraction(
  argument: number | undefined,
  env: Record<string, string | undefined>,
  gpu: boolean,
): Fraction {
  let fraction = DEFAULT_MEMORY_FRACTION;
  let source: FractionSource = 'default';
  let from = 'default';
  let clampedCode: WarningCode = HOST_VARIABLE.clamped;
  if (argument !== undefined) {
    assertFinite('memoryFraction', argument);
    fraction = argument;
    source = 'argument';
    from = 'argument';
  } else {
    const variables = gpu ? [GPU_VARIABLE, HOST_VARIABLE] : [HOST_VARIABLE];
    for (const [position, variable] of variables.entries()) {
      const text = env[variable.name];
      if (text === undefined) continue;
      const parsed = parseDecimal(text);
      if (parsed === undefined) {
        const next = variables[position + 1];
        warnOnce(
          variable.invalid,
          `Invalid ${variable.name}=${JSON.stringify(text)}, using ${next === undefined ? '' : `${next.name} or `}default ${DEFAULT_MEMORY_FRACTION}`,
        );
        continue;
      }
      fraction = parsed;
      source = 'env';
      from = variable.name;
      clampedCode = variable.clamped;
      break;
    }
  }
  const clamped = Math.min(MAX_MEMORY_FRACTION, Math.max(MIN_MEMORY_FRACTION, fraction));
  if (clamped !== fraction) {
    const what = from === GPU_MEMORY_FRACTION_ENV_VAR ? 'GPU memory fraction' : 'Memory fraction';
    warnOnce(
      clampedCode,
      `${what} ${fraction} clamped to [${MIN_MEMORY_FRACTION}, ${MAX_MEMORY_FRACTION}]: using ${clamped}`,
    );
  }
  return { memoryFraction: clamped, source, from };
}

function threshold(
  bytes: number,
  { memoryFraction, source, from }: Fraction,
  detectionMethod: ThresholdInfo['detectionMethod'],
  limitSource: LimitSource | null,
  basis: ThresholdBasis,
): AdaptiveThreshold {
  const totalMemoryGb = bytes / GIB;
  const thresholdGb = totalMemoryGb * memoryFraction;
  log(
    'threshold %s GB (%d%% of %s GB %s, fraction from %s, memory from %s, limit %s)',
    formatGb(thresholdGb),
    Math.round(memoryFraction * 100),
    formatGb(totalMemoryGb),
    basis,
    from,
    detectionMethod,
    limitSource ?? 'none',
  );
  return {
    thresholdGb,
    thresholdBytes: Math.floor(thresholdGb * GIB),
    info: { totalMemoryGb, memoryFraction, source, detectionMethod, limitSource, basis },
  };
}

interface Prepared {
  options: ThresholdOptions;
  fraction: Fraction;
  basis: ThresholdBasis;
  /** The threshold of a `totalMemoryBytes` budget, which needs no detection. */
  budget: AdaptiveThreshold | undefined;
  /** The GPU whose memory is the budget, if any. */
  device: number | undefined;
  /** The options of the GPU's detection. */
  deviceOptions: DeviceOptions;
}

/** The options of {@link detectDeviceMemory} that the threshold options give. */
function toDeviceOptions(
  { env, ttlMs, refresh }: CheckedDetectOptions,
  { deviceTimeoutMs, deviceProbes }: CheckedDeviceChoice,
): DeviceOptions {
  return { env, ttlMs, refresh, timeoutMs: deviceTimeoutMs, probes: deviceProbes };
}

function prepare(memoryFraction: number | ThresholdOptions | null | undefined): Prepared {
  const options = toOptions(memoryFraction);
  const detect = checkDetectOptions(options);
  const choice = checkDeviceChoice(options);
  const basis = options.basis ?? 'total';
  assertOneOf('basis', basis, BASES);
  const totalMemoryBytes = options.totalMemoryBytes ?? undefined;
  if (totalMemoryBytes !== undefined) assertCount('totalMemoryBytes', totalMemoryBytes, true);
  const { device } = choice;
  const fraction = resolveFraction(
    options.memoryFraction ?? undefined,
    detect.env ?? process.env,
    device !== undefined,
  );
  // A known budget is a total: what is available of it is not known.
  const budget =
    totalMemoryBytes === undefined
      ? undefined
      : threshold(totalMemoryBytes, fraction, 'override', null, 'total');
  return {
    options,
    fraction,
    basis,
    budget,
    device,
    deviceOptions: toDeviceOptions(detect, choice),
  };
}

/** The threshold of a GPU's memory: its free memory with basis `'available'` where known, else its total. */
function fromDevice({ fraction, basis }: Prepared, gpu: DeviceMemory): AdaptiveThreshold {
  log('GPU %d: %s, from %s', gpu.index, gpu.name, gpu.source);
  const free = basis === 'available' ? gpu.freeBytes : null;
  if (basis === 'available' && free === null) log('GPU free memory unknown, using the total');
  return free === null
    ? threshold(gpu.totalBytes, fraction, gpu.source, null, 'total')
    : threshold(free, fraction, gpu.source, null, 'available');
}

/**
 * Throws the `TypeError` of a synchronous function asked for a GPU's memory, which only tools run
 * asynchronously can read. `name` is the asynchronous function to use instead.
 */
function assertNoDeviceDetection(prepared: Prepared, name: string): void {
  if (prepared.device === undefined || prepared.budget !== undefined) return;
  throw new TypeError(
    `Expected \`device\` not to be given to ${name}Sync: a GPU's memory is read by running tools, asynchronously. Use ${name}, or give \`totalMemoryBytes\``,
  );
}

function fromReport({ fraction, basis }: Prepared, report: MemoryReport | null): AdaptiveThreshold {
  if (report === null) {
    warnOnce(
      'NLSQ_MEMORY_DETECTION_FAILED',
      `Could not detect system memory. Using fallback threshold of ${FALLBACK_THRESHOLD_GB} GB`,
    );
    return {
      thresholdGb: FALLBACK_THRESHOLD_GB,
      thresholdBytes: FALLBACK_THRESHOLD_GB * GIB,
      info: {
        totalMemoryGb: 0,
        memoryFraction: fraction.memoryFraction,
        source: fraction.source,
        detectionMethod: 'fallback',
        limitSource: null,
        basis,
      },
    };
  }
  const available = basis === 'available' ? report.availableBytes : null;
  if (basis === 'available' && available === null) log('available memory unknown, using the total');
  return available === null
    ? threshold(report.totalBytes, fraction, report.detectionMethod, report.limitSource, 'total')
    : threshold(available, fraction, report.detectionMethod, report.limitSource, 'available');
}

/**
 * Computes the memory threshold: a fraction of the memory this process may use. Call it before
 * allocating buffers.
 *
 * The fraction is the argument, else `NLSQ_MEMORY_FRACTION`, else 0.75, clamped to [0.1, 0.9]
 * with a warning. When no memory can be detected the threshold is 16 GB, with a warning.
 *
 * With `device`, the memory is that GPU's (from {@link detectDeviceMemory}): its `totalBytes`, or
 * its `freeBytes` with `basis: 'available'` (its total where free memory is unknown); the fraction
 * is then the argument, else `NLSQ_GPU_MEMORY_FRACTION`, else as above.
 *
 * @param memoryFraction - The fraction, or options: `memoryFraction`, `totalMemoryBytes` (a known
 * budget, which skips detection), `basis`, `device`, `deviceTimeoutMs`, `deviceProbes`, and those
 * of {@link detectMemory}.
 * @returns The threshold in GB and bytes, and how it was computed.
 * @throws TypeError for a fraction or budget that is not a number, or an option of the wrong
 * type; RangeError for a non-finite fraction, a budget that is not a positive safe integer, or an
 * unknown basis. All before any I/O. RangeError, after detection, when `device` is not the index
 * of a visible GPU (the message lists the visible ones).
 * @example
 * ```ts
 * const { thresholdBytes } = await getAdaptiveMemoryThreshold();
 * const { thresholdGb } = await getAdaptiveMemoryThreshold({ totalMemoryBytes: 32 * 1024 ** 3 }); // 24
 * const gpu = await getAdaptiveMemoryThreshold({ device: 0 }); // 75% of GPU 0's memory
 * ```
 */
export async function getAdaptiveMemoryThreshold(
  memoryFraction?: number | ThresholdOptions | null,
): Promise<AdaptiveThreshold> {
  const prepared = prepare(memoryFraction);
  if (prepared.budget !== undefined) return prepared.budget;
  if (prepared.device !== undefined) {
    const devices = await detectDeviceMemory(prepared.deviceOptions);
    return fromDevice(prepared, findDevice(devices, prepared.device));
  }
  return fromReport(prepared, await detectMemory(prepared.options));
}

/**
 * Like {@link getAdaptiveMemoryThreshold}, synchronously, with host RAM from `os.totalmem()`.
 * GPUs cannot be detected synchronously: `device` is taken only with `totalMemoryBytes`.
 *
 * @param memoryFraction - The fraction, or options as for {@link getAdaptiveMemoryThreshold}.
 * @returns The threshold in GB and bytes, and how it was computed.
 * @throws TypeError or RangeError, as {@link getAdaptiveMemoryThreshold}; TypeError for `device`
 * without `totalMemoryBytes`.
 * @example
 * ```ts
 * getAdaptiveMemoryThresholdSync(0.5).info.source; // 'argument'
 * ```
 */
export function getAdaptiveMemoryThresholdSync(
  memoryFraction?: number | ThresholdOptions | null,
): AdaptiveThreshold {
  return thresholdSync(memoryFraction, 'getAdaptiveMemoryThreshold');
}

/**
 * The synchronous threshold; with `device` (and no `totalMemoryBytes`) a `TypeError` that names
 * `name`, the asynchronous function to call instead.
 *
 * @internal
 */
export function thresholdSync(
  memoryFraction: number | ThresholdOptions | null | undefined,
  name: string,
): AdaptiveThreshold {
  const prepared = prepare(memoryFraction);
  assertNoDeviceDetection(prepared, name);
  return prepared.budget ?? fromReport(prepared, detectMemorySync(prepared.options));
}

/**
 * The options of {@link detectDeviceMemory} that threshold options give (`env`, `ttlMs`,
 * `refresh`, `deviceTimeoutMs`, `deviceProbes`), checked, for callers that list the GPUs too and
 * must not detect twice (the command).
 *
 * @internal
 */
export function deviceOptionsOf(
  memoryFraction: number | ThresholdOptions | null | undefined,
): DeviceOptions {
  return prepare(memoryFraction).deviceOptions;
}

/**
 * Checks threshold options as the threshold functions do (the fraction, with its warnings, the
 * basis, the budget and the detection options), without detecting.
 *
 * @internal
 */
export function assertThresholdInput(
  memoryFraction: number | ThresholdOptions | null | undefined,
): void {
  prepare(memoryFraction);
}

/**
 * The threshold from a report (and, with `device`, a device list) already read, for callers that
 * show them too and must not detect twice (the command). With `device`, `devices` is searched
 * (a `RangeError` listing them when it is not there) and `report` is not used.
 *
 * @internal
 */
export function thresholdFromReport(
  memoryFraction: number | ThresholdOptions | null | undefined,
  report: MemoryReport | null,
  devices: readonly DeviceMemory[] = [],
): AdaptiveThreshold {
  const prepared = prepare(memoryFraction);
  if (prepared.budget !== undefined) return prepared.budget;
  if (prepared.device !== undefined)
    return fromDevice(prepared, findDevice(devices, prepared.device));
  return fromReport(prepared, report);
}
