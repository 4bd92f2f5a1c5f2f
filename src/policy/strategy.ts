import {
  assertCount,
  assertMultiplier,
  assertPositive,
  assertPositiveInteger,
  expected,
} from '../core/check.js';
import { checkOptions, type Schema } from '../core/options.js';
import { GIB, formatGb as gb } from '../core/units.js';
import { largestFitting } from './largest.js';

/** The computation strategies, from lightest to heaviest on memory. Frozen. */
export const NLSQStrategy: {
  /** Hold the full Jacobian in memory. */
  readonly STANDARD: 'standard';
  /** Accumulate J^T J chunk by chunk. */
  readonly OUT_OF_CORE: 'out_of_core';
  /** L-BFGS warm-up, then streaming Gauss-Newton. */
  readonly HYBRID_STREAMING: 'hybrid_streaming';
} = Object.freeze({
  STANDARD: 'standard',
  OUT_OF_CORE: 'out_of_core',
  HYBRID_STREAMING: 'hybrid_streaming',
} as const);

/** `'standard'` (in memory), `'out_of_core'` (chunked J^T J) or `'hybrid_streaming'` (streaming). */
export type NLSQStrategy = (typeof NLSQStrategy)[keyof typeof NLSQStrategy];

/** A strategy decision with the figures behind it. Returned frozen. */
export interface StrategyDecision {
  /** The chosen strategy. */
  readonly strategy: NLSQStrategy;
  /** The memory threshold the sizes were compared with, in GB. */
  readonly thresholdGb: number;
  /** The int64 index array: `nPoints * 8` bytes, in GB. */
  readonly indexMemoryGb: number;
  /** The estimated peak memory of a full Jacobian fit, in GB; 0 when `nParams` is 0. */
  readonly peakMemoryGb: number;
  /** The largest `nPoints` that still decides `'standard'` with this threshold and `nParams`. */
  readonly maxInMemoryPoints: number;
  /** Why, in the original's words, e.g. `Peak memory (256.67 GB) exceeds threshold (24.00 GB)`. */
  readonly reason: string;
}

/** How the peak memory is estimated. `null`, for either, means "not given". */
export interface PeakOptions {
  /** Bytes per element of the Jacobian. Default: 8 (float64). */
  bytesPerElement?: number | null;
  /** Multiplier for autodiff, padding, JIT and optimizer memory. Default: 6.5. */
  jacobianOverhead?: number | null;
}

/** How the peak memory is estimated, with the defaults filled in. */
export interface Peak {
  bytesPerElement: number;
  jacobianOverhead: number;
}

/** The peak estimate's options, each with its check. */
export const PEAK_FIELDS: Schema = {
  // A whole number of bytes: 1, 2, 4, 8 …
  bytesPerElement: (name, value) => assertPositiveInteger(name, value),
  jacobianOverhead: assertMultiplier,
};

const INDEX_BYTES = 8;
const MAX_THRESHOLD_GB = 2 ** 53 / GIB;
const DEFAULT_BYTES_PER_ELEMENT = 8;
const DEFAULT_OVERHEAD = 6.5;

/** The peak options, already checked, with their defaults. */
export function resolvePeak(options: PeakOptions): Peak {
  return {
    bytesPerElement: options.bytesPerElement ?? DEFAULT_BYTES_PER_ELEMENT,
    jacobianOverhead: options.jacobianOverhead ?? DEFAULT_OVERHEAD,
  };
}

function peakGb(nPoints: number, nParams: number, peak: Peak): number {
  return (nPoints * nParams * peak.bytesPerElement * peak.jacobianOverhead) / GIB;
}

/**
 * Estimates the peak memory of a full Jacobian fit in GB:
 * `nPoints * nParams * bytesPerElement * jacobianOverhead / 1024 ** 3`.
 *
 * @param nPoints - Number of data points, a non-negative integer.
 * @param nParams - Number of fit parameters, a non-negative integer.
 * @param bytesPerElement - Bytes per Jacobian element. Default: 8 (float64); `null` means the default.
 * @param jacobianOverhead - Multiplier for autodiff intermediates, padding and copies, JIT and
 * optimizer memory. Default: 6.5; `null` means the default.
 * @returns The estimate in GB (GiB); 0 when either count is 0.
 * @throws TypeError for a value that is not a number; RangeError for a negative, fractional,
 * non-finite or unsafe count, or a multiplier that is not above 0.
 * @example
 * ```ts
 * estimatePeakMemoryGb(100_000_000, 53); // 256.67...
 * ```
 */
export function estimatePeakMemoryGb(
  nPoints: number,
  nParams: number,
  bytesPerElement?: number | null,
  jacobianOverhead?: number | null,
): number {
  assertCount('nPoints', nPoints);
  assertCount('nParams', nParams);
  const peak = resolvePeak(
    checkOptions<PeakOptions>({ bytesPerElement, jacobianOverhead }, PEAK_FIELDS),
  );
  return peakGb(nPoints, nParams, peak);
}

/**
 * The decision for counts and a threshold already checked: the seed's tree, with its figures.
 * With several `workers`, `thresholdGb` is one worker's, and the reason says so.
 */
export function decide(
  nPoints: number,
  nParams: number,
  thresholdGb: number,
  peak: Peak,
  workers = 1,
): StrategyDecision {
  const perWorker = workers === 1 ? '' : ` per worker of ${workers}`;
  const threshold = `${gb(thresholdGb)} GB${perWorker}`;
  const indexGb = (points: number): number => (points * INDEX_BYTES) / GIB;
  const fits = (points: number): boolean =>
    !(indexGb(points) > thresholdGb) && !(peakGb(points, nParams, peak) > thresholdGb);
  const indexMemoryGb = indexGb(nPoints);
  const peakMemoryGb = peakGb(nPoints, nParams, peak);
  const perPointBytes = Math.max(
    INDEX_BYTES,
    nParams * peak.bytesPerElement * peak.jacobianOverhead,
  );
  // A threshold past 2 ** 53 points' worth overflows to Infinity in bytes: the guess stops there.
  const guess = Math.min(Number.MAX_SAFE_INTEGER, (thresholdGb * GIB) / perPointBytes);
  const maxInMemoryPoints = largestFitting(fits, guess);
  let strategy: NLSQStrategy;
  let reason: string;
  if (indexMemoryGb > thresholdGb) {
    strategy = NLSQStrategy.HYBRID_STREAMING;
    reason = `Index array (${gb(indexMemoryGb)} GB) exceeds threshold (${threshold})`;
  } else if (peakMemoryGb > thresholdGb) {
    strategy = NLSQStrategy.OUT_OF_CORE;
    reason = `Peak memory (${gb(peakMemoryGb)} GB) exceeds threshold (${threshold})`;
  } else {
    strategy = NLSQStrategy.STANDARD;
    const relation = peakMemoryGb === thresholdGb ? '<=' : '<';
    reason = `Memory fits: ${gb(peakMemoryGb)} GB ${relation} ${gb(thresholdGb)} GB threshold${perWorker}`;
  }
  return Object.freeze({
    strategy,
    thresholdGb,
    indexMemoryGb,
    peakMemoryGb,
    maxInMemoryPoints,
    reason,
  });
}

/**
 * Decides the strategy for `nPoints` × `nParams` against a threshold in GB, without I/O: an
 * index array above it streams, a peak above it goes out of core, else standard.
 *
 * @param nPoints - Number of data points, a non-negative integer.
 * @param nParams - Number of fit parameters, a non-negative integer.
 * @param thresholdGb - The memory threshold in GB (GiB), at or above 0.
 * @param options - `bytesPerElement` (default 8) and `jacobianOverhead` (default 6.5).
 * @returns A frozen decision with its figures and reason.
 * @throws TypeError for a value that is not a number or an unknown option; RangeError for a bad
 * count, a negative or non-finite threshold, or a multiplier that is not above 0.
 * @example
 * ```ts
 * decideNlsqStrategy(23_000_000, 53, 16).strategy; // 'out_of_core'
 * ```
 */
export function decideNlsqStrategy(
  nPoints: number,
  nParams: number,
  thresholdGb: number,
  options?: PeakOptions | null,
): StrategyDecision {
  assertCount('nPoints', nPoints);
  assertCount('nParams', nParams);
  // At most 2 ** 53 bytes, as every size here; -0 is 0.
  assertPositive('thresholdGb', thresholdGb, true);
  if (thresholdGb > MAX_THRESHOLD_GB) {
    throw expected(
      RangeError,
      'thresholdGb',
      `at most ${MAX_THRESHOLD_GB} (2 ** 53 bytes)`,
      thresholdGb,
    );
  }
  const peak = resolvePeak(checkOptions<PeakOptions>(options, PEAK_FIELDS));
  return decide(nPoints, nParams, thresholdGb + 0, peak);
}
