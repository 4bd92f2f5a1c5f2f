import { logger, warnOnce } from './diagnostics.js';
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
  checkDetectOptions,
  parseDecimal,
  toOptions,
} from './parse.js';
import { formatGb, GIB } from './units.js';

/** The fraction of memory used when neither argument nor environment sets one. */
export const DEFAULT_MEMORY_FRACTION = 0.75;
/** The environment variable that sets the memory fraction. */
export const MEMORY_FRACTION_ENV_VAR = 'NLSQ_MEMORY_FRACTION';
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
   * Which source produced host RAM: `'override'` for `totalMemoryBytes`, `'fallback'` when
   * nothing was detected, `null` when host RAM was unknown and the limit alone set the memory.
   */
  detectionMethod: DetectionMethod | 'override' | 'fallback' | null;
  /** Where the limit that capped host RAM came from, if any. */
  limitSource: LimitSource | null;
  /** The memory figure the fraction was applied to. */
  basis: ThresholdBasis;
}

/** Options of the threshold functions. `null`, for any of them, means "not given". */
export interface ThresholdOptions extends DetectOptions {
  /** Fraction of memory to allow, clamped to [0.1, 0.9]. Default: `NLSQ_MEMORY_FRACTION`, else 0.75. */
  memoryFraction?: number | null;
  /** A known budget in bytes, a positive safe integer (GPU memory, a scheduler's grant, tests); skips detection and is used as a total. */
  totalMemoryBytes?: number | null;
  /** Apply the fraction to the total this process may use, or to what is available now. Default: `'total'`. */
  basis?: ThresholdBasis | null;
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
}

/** The effective fraction: argument, else environment, else default; clamped with a warning. */
function resolveFraction(
  argument: number | undefined,
  env: Record<string, string | undefined>,
): Fraction {
  let fraction = DEFAULT_MEMORY_FRACTION;
  let source: FractionSource = 'default';
  if (argument !== undefined) {
    assertFinite('memoryFraction', argument);
    fraction = argument;
    source = 'argument';
  } else {
    const text = env[MEMORY_FRACTION_ENV_VAR];
    if (text !== undefined) {
      const parsed = parseDecimal(text);
      if (parsed === undefined) {
        warnOnce(
          'NLSQ_MEMORY_FRACTION_INVALID',
          `Invalid ${MEMORY_FRACTION_ENV_VAR}=${JSON.stringify(text)}, using default ${DEFAULT_MEMORY_FRACTION}`,
        );
      } else {
        fraction = parsed;
        source = 'env';
      }
    }
  }
  const clamped = Math.min(MAX_MEMORY_FRACTION, Math.max(MIN_MEMORY_FRACTION, fraction));
  if (clamped !== fraction) {
    warnOnce(
      'NLSQ_MEMORY_FRACTION_CLAMPED',
      `Memory fraction ${fraction} clamped to [${MIN_MEMORY_FRACTION}, ${MAX_MEMORY_FRACTION}]: using ${clamped}`,
    );
  }
  return { memoryFraction: clamped, source };
}

function threshold(
  bytes: number,
  { memoryFraction, source }: Fraction,
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
    source,
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
}

function prepare(memoryFraction: number | ThresholdOptions | null | undefined): Prepared {
  const options = toOptions(memoryFraction);
  const { env = process.env } = checkDetectOptions(options);
  const basis = options.basis ?? 'total';
  assertOneOf('basis', basis, BASES);
  const totalMemoryBytes = options.totalMemoryBytes ?? undefined;
  if (totalMemoryBytes !== undefined) assertCount('totalMemoryBytes', totalMemoryBytes, true);
  const fraction = resolveFraction(options.memoryFraction ?? undefined, env);
  // A known budget is a total: what is available of it is not known.
  const budget =
    totalMemoryBytes === undefined
      ? undefined
      : threshold(totalMemoryBytes, fraction, 'override', null, 'total');
  return { options, fraction, basis, budget };
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
 * @param memoryFraction - The fraction, or options: `memoryFraction`, `totalMemoryBytes` (a known
 * budget, which skips detection), `basis`, and those of {@link detectMemory}.
 * @returns The threshold in GB and bytes, and how it was computed.
 * @throws TypeError for a fraction or budget that is not a number, or an option of the wrong
 * type; RangeError for a non-finite fraction, a budget that is not a positive safe integer, or an
 * unknown basis. All before any I/O.
 * @example
 * ```ts
 * const { thresholdBytes } = await getAdaptiveMemoryThreshold();
 * const { thresholdGb } = await getAdaptiveMemoryThreshold({ totalMemoryBytes: 32 * 1024 ** 3 }); // 24
 * ```
 */
export async function getAdaptiveMemoryThreshold(
  memoryFraction?: number | ThresholdOptions | null,
): Promise<AdaptiveThreshold> {
  const prepared = prepare(memoryFraction);
  return prepared.budget ?? fromReport(prepared, await detectMemory(prepared.options));
}

/**
 * Like {@link getAdaptiveMemoryThreshold}, synchronously, with host RAM from `os.totalmem()`.
 *
 * @param memoryFraction - The fraction, or options as for {@link getAdaptiveMemoryThreshold}.
 * @returns The threshold in GB and bytes, and how it was computed.
 * @throws TypeError or RangeError, as {@link getAdaptiveMemoryThreshold}.
 * @example
 * ```ts
 * getAdaptiveMemoryThresholdSync(0.5).info.source; // 'argument'
 * ```
 */
export function getAdaptiveMemoryThresholdSync(
  memoryFraction?: number | ThresholdOptions | null,
): AdaptiveThreshold {
  const prepared = prepare(memoryFraction);
  return prepared.budget ?? fromReport(prepared, detectMemorySync(prepared.options));
}

/**
 * The threshold from a report already read, for callers that show the report too and must not
 * detect twice (the command).
 *
 * @internal
 */
export function thresholdFromReport(
  memoryFraction: number | ThresholdOptions | null | undefined,
  report: MemoryReport | null,
): AdaptiveThreshold {
  const prepared = prepare(memoryFraction);
  return prepared.budget ?? fromReport(prepared, report);
}
