import { logger } from './diagnostics.js';
import { assertCount, assertPositive, received, toOptions } from './parse.js';
import { getAdaptiveMemoryThreshold, type ThresholdOptions, thresholdSync } from './threshold.js';
import { GIB, formatGb as gb } from './units.js';

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

/** Options of `selectNlsqStrategy`: the threshold's and the peak estimate's. */
export interface StrategyOptions extends ThresholdOptions, PeakOptions {}

const INDEX_BYTES = 8;
const log = logger('strategy');

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
  const peak = resolvePeakOptions({
    bytesPerElement: bytesPerElement ?? null,
    jacobianOverhead: jacobianOverhead ?? null,
  });
  return peakGb(nPoints, nParams, peak.bytesPerElement, peak.jacobianOverhead);
}

function peakGb(
  nPoints: number,
  nParams: number,
  bytesPerElement: number,
  overhead: number,
): number {
  return (nPoints * nParams * bytesPerElement * overhead) / GIB;
}

function indexGb(nPoints: number): number {
  return (nPoints * INDEX_BYTES) / GIB;
}

/** The largest n with `fits(n)`, given `fits(0)`, searched from `guess` out. */
function largestFitting(fits: (n: number) => boolean, guess: number): number {
  const max = Number.MAX_SAFE_INTEGER;
  let low = Math.min(max, Math.max(0, Math.floor(guess)));
  for (let step = 1; low > 0 && !fits(low); step *= 2) low = Math.max(0, low - step);
  let high = Math.min(max, low + 1);
  for (let step = 2; fits(high); step *= 2) {
    if (high === max) return max;
    low = high;
    high = Math.min(max, low + step);
  }
  while (high - low > 1) {
    const middle = low + Math.floor((high - low) / 2);
    if (fits(middle)) low = middle;
    else high = middle;
  }
  return low;
}

interface Peak {
  bytesPerElement: number;
  jacobianOverhead: number;
}

function resolvePeakOptions(options: PeakOptions): Peak {
  const bytesPerElement = options.bytesPerElement ?? 8;
  const jacobianOverhead = options.jacobianOverhead ?? 6.5;
  assertPositive('bytesPerElement', bytesPerElement);
  assertPositive('jacobianOverhead', jacobianOverhead);
  return { bytesPerElement, jacobianOverhead };
}

function decide(
  nPoints: number,
  nParams: number,
  thresholdGb: number,
  { bytesPerElement, jacobianOverhead }: Peak,
): StrategyDecision {
  const peakOf = (points: number): number =>
    peakGb(points, nParams, bytesPerElement, jacobianOverhead);
  const fits = (points: number): boolean =>
    !(indexGb(points) > thresholdGb) && !(peakOf(points) > thresholdGb);
  const indexMemoryGb = indexGb(nPoints);
  const peakMemoryGb = peakOf(nPoints);
  const perPointBytes = Math.max(INDEX_BYTES, nParams * bytesPerElement * jacobianOverhead);
  const maxInMemoryPoints = largestFitting(fits, (thresholdGb * GIB) / perPointBytes);
  let strategy: NLSQStrategy;
  let reason: string;
  if (indexMemoryGb > thresholdGb) {
    strategy = NLSQStrategy.HYBRID_STREAMING;
    reason = `Index array (${gb(indexMemoryGb)} GB) exceeds threshold (${gb(thresholdGb)} GB)`;
  } else if (peakMemoryGb > thresholdGb) {
    strategy = NLSQStrategy.OUT_OF_CORE;
    reason = `Peak memory (${gb(peakMemoryGb)} GB) exceeds threshold (${gb(thresholdGb)} GB)`;
  } else {
    strategy = NLSQStrategy.STANDARD;
    const relation = peakMemoryGb === thresholdGb ? '<=' : '<';
    reason = `Memory fits: ${gb(peakMemoryGb)} GB ${relation} ${gb(thresholdGb)} GB threshold`;
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
 * @throws TypeError for a value that is not a number; RangeError for a bad count, a negative or
 * non-finite threshold, or a multiplier that is not above 0.
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
  assertPositive('thresholdGb', thresholdGb, true);
  if (options == null) return decide(nPoints, nParams, thresholdGb, resolvePeakOptions({}));
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`Expected \`options\` to be an object, got ${received(options)}`);
  }
  return decide(nPoints, nParams, thresholdGb, resolvePeakOptions(options));
}

function logged(
  nPoints: number,
  nParams: number,
  started: number,
  decision: StrategyDecision,
): StrategyDecision {
  log(
    'selected %s for %d points x %d params in %s ms: %s',
    decision.strategy,
    nPoints,
    nParams,
    (performance.now() - started).toFixed(3),
    decision.reason,
  );
  return decision;
}

function prepare(
  nPoints: number,
  nParams: number,
  memoryFraction: number | StrategyOptions | null | undefined,
) {
  assertCount('nPoints', nPoints);
  assertCount('nParams', nParams);
  const options = toOptions(memoryFraction);
  return { options, peak: resolvePeakOptions(options), started: performance.now() };
}

/**
 * Selects the strategy for `nPoints` × `nParams` against the adaptive memory threshold: the
 * fraction (argument, else `NLSQ_MEMORY_FRACTION`, else 0.75) of the memory this process may use,
 * or, with `device`, of that GPU's memory.
 *
 * @param nPoints - Number of data points, a non-negative integer.
 * @param nParams - Number of fit parameters, a non-negative integer.
 * @param memoryFraction - The fraction, or options: those of {@link getAdaptiveMemoryThreshold},
 * plus `bytesPerElement` and `jacobianOverhead`.
 * @returns A frozen decision with its figures and reason.
 * @throws TypeError or RangeError for bad sizes or options, before any detection; RangeError when
 * `device` is not a visible GPU.
 * @example
 * ```ts
 * const { strategy, reason } = await selectNlsqStrategy(100_000_000, 53);
 * const onGpu = await selectNlsqStrategy(50_000_000, 53, { device: 0 }); // against 75% of GPU 0
 * ```
 */
export async function selectNlsqStrategy(
  nPoints: number,
  nParams: number,
  memoryFraction?: number | StrategyOptions | null,
): Promise<StrategyDecision> {
  const { options, peak, started } = prepare(nPoints, nParams, memoryFraction);
  const { thresholdGb } = await getAdaptiveMemoryThreshold(options);
  return logged(nPoints, nParams, started, decide(nPoints, nParams, thresholdGb, peak));
}

/**
 * Like {@link selectNlsqStrategy}, synchronously, with host RAM from `os.totalmem()`. GPUs cannot
 * be detected synchronously: `device` is taken only with `totalMemoryBytes`.
 *
 * @param nPoints - Number of data points, a non-negative integer.
 * @param nParams - Number of fit parameters, a non-negative integer.
 * @param memoryFraction - The fraction, or options as for {@link selectNlsqStrategy}.
 * @returns A frozen decision with its figures and reason.
 * @throws TypeError or RangeError for bad sizes or options; TypeError for `device` without
 * `totalMemoryBytes`.
 * @example
 * ```ts
 * selectNlsqStrategySync(1_000_000, 10, { totalMemoryBytes: 8 * 1024 ** 3 }).strategy; // 'standard'
 * ```
 */
export function selectNlsqStrategySync(
  nPoints: number,
  nParams: number,
  memoryFraction?: number | StrategyOptions | null,
): StrategyDecision {
  const { options, peak, started } = prepare(nPoints, nParams, memoryFraction);
  const { thresholdGb } = thresholdSync(options, 'selectNlsqStrategy');
  return logged(nPoints, nParams, started, decide(nPoints, nParams, thresholdGb, peak));
}

/**
 * The decision against a threshold already computed, logged as {@link selectNlsqStrategy} logs
 * it, for callers that detect once for all they show (the command).
 *
 * @internal
 */
export function selectWithThreshold(
  nPoints: number,
  nParams: number,
  thresholdGb: number,
  options?: StrategyOptions | null,
): StrategyDecision {
  const { peak, started } = prepare(nPoints, nParams, options);
  return logged(nPoints, nParams, started, decide(nPoints, nParams, thresholdGb, peak));
}
