import { assertFinite } from '../core/check.js';
import { logger, type WarningCode, warnOnce } from '../core/diagnostics.js';
import { parseDecimal } from '../core/numbers.js';
import type {
  DetectionMethod,
  DeviceMemory,
  DeviceSource,
  LimitSource,
  MemoryReport,
} from '../core/types.js';
import { formatGb, GIB } from '../core/units.js';

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

/** A memory threshold, in GB and bytes, with how it was computed. */
export interface AdaptiveThreshold {
  /** The threshold in GB (bytes / 1024³). */
  thresholdGb: number;
  /** The threshold in bytes, an integer: `Math.floor(thresholdGb * 1024 ** 3)`. */
  thresholdBytes: number;
  /** How it was computed. */
  info: ThresholdInfo;
}

/** The effective fraction, and where it came from. */
export interface Fraction {
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

const log = logger('threshold');
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

/** The fraction a variable of `variables` sets, skipping invalid ones with a warning. */
function fromEnvironment(
  env: Record<string, string | undefined>,
  variables: readonly FractionVariable[],
): { fraction: number; variable: FractionVariable } | undefined {
  for (const [position, variable] of variables.entries()) {
    const text = env[variable.name];
    if (text === undefined) continue;
    const fraction = parseDecimal(text);
    if (fraction !== undefined) return { fraction, variable };
    const next = variables[position + 1];
    warnOnce(
      variable.invalid,
      `Invalid ${variable.name}=${JSON.stringify(text)}, using ${next === undefined ? '' : `${next.name} or `}default ${DEFAULT_MEMORY_FRACTION}`,
    );
  }
  return undefined;
}

/**
 * The effective fraction: argument, else the environment (for a GPU `NLSQ_GPU_MEMORY_FRACTION`,
 * then `NLSQ_MEMORY_FRACTION`), else default; clamped to [0.1, 0.9] with a warning.
 */
export function resolveFraction(
  argument: number | undefined,
  env: Record<string, string | undefined>,
  gpu: boolean,
): Fraction {
  let fraction = DEFAULT_MEMORY_FRACTION;
  let source: FractionSource = 'default';
  let from = 'default';
  let clampedCode = HOST_VARIABLE.clamped;
  if (argument !== undefined) {
    assertFinite('memoryFraction', argument);
    fraction = argument;
    source = 'argument';
    from = 'argument';
  } else {
    const found = fromEnvironment(env, gpu ? [GPU_VARIABLE, HOST_VARIABLE] : [HOST_VARIABLE]);
    if (found !== undefined) {
      fraction = found.fraction;
      source = 'env';
      from = found.variable.name;
      clampedCode = found.variable.clamped;
    }
  }
  const clamped = Math.min(MAX_MEMORY_FRACTION, Math.max(MIN_MEMORY_FRACTION, fraction));
  if (clamped !== fraction) {
    const what = from === GPU_MEMORY_FRACTION_ENV_VAR ? 'GPU memory fraction' : 'Memory fraction';
    warnOnce(
      clampedCode,
      `${what} ${fraction} from ${from === 'argument' ? '`memoryFraction`' : from} clamped to [${MIN_MEMORY_FRACTION}, ${MAX_MEMORY_FRACTION}]: using ${clamped}`,
    );
  }
  return { memoryFraction: clamped, source, from };
}

/** The fraction of `bytes`, with how it was computed. */
export function thresholdOf(
  bytes: number,
  { memoryFraction, source, from }: Fraction,
  detectionMethod: ThresholdInfo['detectionMethod'],
  limitSource: LimitSource | null,
  basis: ThresholdBasis,
): AdaptiveThreshold {
  const totalMemoryGb = (bytes + 0) / GIB; // -0 is 0: nothing prints as -0.00
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

/**
 * The threshold of a report: its total, or its available memory with basis `'available'` where
 * known (0 is known: memory is exhausted). No report: 16 GB, with a warning.
 */
export function thresholdFromReport(
  report: MemoryReport | null,
  fraction: Fraction,
  basis: ThresholdBasis,
): AdaptiveThreshold {
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
  // A report made by hand may say more is available than usable: never more than the total.
  const available =
    basis === 'available' && report.availableBytes !== null
      ? Math.min(report.availableBytes, report.totalBytes)
      : null;
  if (basis === 'available' && available === null) log('available memory unknown, using the total');
  const { detectionMethod, limitSource } = report;
  return available === null
    ? thresholdOf(report.totalBytes, fraction, detectionMethod, limitSource, 'total')
    : thresholdOf(available, fraction, detectionMethod, limitSource, 'available');
}

/**
 * The threshold of a GPU's memory: its free memory with basis `'available'` where known, else its
 * total. A GPU that shares the host's memory (`unifiedMemory`) takes the threshold of `host`, the
 * host's report, with a warning.
 */
export function thresholdFromDevice(
  gpu: DeviceMemory,
  fraction: Fraction,
  basis: ThresholdBasis,
  host: MemoryReport | null = null,
): AdaptiveThreshold {
  log('GPU %d: %s, from %s', gpu.index, gpu.name, gpu.source);
  if (gpu.unifiedMemory || gpu.totalBytes === null) {
    warnOnce(
      'NLSQ_MEMORY_DEVICE_UNIFIED',
      `GPU ${gpu.index} (${gpu.name}) shares the host's memory: its budget is the host's, limits included`,
    );
    return thresholdFromReport(host, fraction, basis);
  }
  const free = basis === 'available' ? gpu.freeBytes : null;
  if (basis === 'available' && free === null) log('GPU free memory unknown, using the total');
  return free === null
    ? thresholdOf(gpu.totalBytes, fraction, gpu.source, null, 'total')
    : thresholdOf(free, fraction, gpu.source, null, 'available');
}
