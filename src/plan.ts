import { logger, warnOnce } from './diagnostics.js';
import { assertCount, assertPositive, received } from './parse.js';
import { slurmTasksOnNode } from './slurm.js';
import {
  decideNlsqStrategy,
  NLSQStrategy,
  type StrategyDecision,
  type StrategyOptions,
} from './strategy.js';
import { type AdaptiveThreshold, getAdaptiveMemoryThreshold, thresholdSync } from './threshold.js';
import { maxTypedArrayElements } from './typedArray.js';

/** Options of `planNlsqFit`: those of `selectNlsqStrategy`, and how to size the buffers. `null` means "not given". */
export interface PlanOptions extends StrategyOptions {
  /** Processes or threads sharing this memory, or `'auto'`: Slurm's tasks on this node. Default: 1. */
  workers?: number | 'auto' | null;
  /** Chunk sizes are multiples of this (homodyne: the number of angles). Default: 1. */
  alignTo?: number | null;
  /** `out_of_core`: a chunk's Jacobian × this fits the budget. Default: 5. */
  safetyFactor?: number | null;
  /** Chunks below this get a warning: the budget is tight. Default: 10,000 (`out_of_core`), 1,000 (`hybrid_streaming`). */
  minChunkPoints?: number | null;
  /** The largest chunk or batch. Default: 500,000 (`out_of_core`), 100,000 (`hybrid_streaming`). */
  maxChunkPoints?: number | null;
  /** The most elements one typed array may hold. Default: this Node.js's limit for `bytesPerElement`. */
  maxTypedArrayElements?: number | null;
}

/** How many points each buffer holds, and how many buffers a fit needs. Returned frozen. */
export interface FitPlan {
  /** The strategy, decided against the per-worker threshold. */
  readonly decision: StrategyDecision;
  /** Processes or threads sharing the memory. */
  readonly workers: number;
  /** The budget of one worker in bytes: the threshold divided by `workers`, rounded down. */
  readonly thresholdBytes: number;
  /** Points per chunk or batch; `nPoints` when one block holds them all; 0 when there are none. */
  readonly chunkPoints: number;
  /** `ceil(nPoints / chunkPoints)`; 0 when there are no points. */
  readonly chunkCount: number;
  /** One chunk's Jacobian: `chunkPoints × nParams × bytesPerElement`. */
  readonly chunkJacobianBytes: number;
  /** The largest typed array this Node.js allows, in bytes: its elements × `bytesPerElement`. */
  readonly maxTypedArrayBytes: number;
  /** One sentence: why this size. */
  readonly reason: string;
}

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
const KIB = 1024;
/** Per strategy: the default smallest and largest chunk, and what the reason calls one. */
const LIMITS = {
  out_of_core: { min: 10_000, max: 500_000, one: 'chunk', many: 'Chunks' },
  hybrid_streaming: { min: 1_000, max: 100_000, one: 'batch', many: 'Batches' },
} as const;
const DEFAULT_SAFETY_FACTOR = 5;
/** NLSQ's streaming batches take half the budget: a Jacobian × 2 fits it. */
const STREAMING_FACTOR = 2;
const log = logger('plan');

interface Resolved {
  nPoints: number;
  nParams: number;
  workers: number;
  workersFrom: string;
  alignTo: number;
  safetyFactor: number;
  minChunkPoints: number | undefined;
  maxChunkPoints: number | undefined;
  maxElements: number;
  bytesPerElement: number;
  jacobianOverhead: number;
  options: PlanOptions;
  started: number;
}

interface Size {
  chunkPoints: number;
  reason: string;
}

function assertPositiveInteger(name: string, value: unknown, or = ''): asserts value is number {
  const expected = `a positive integer${or}`;
  if (typeof value !== 'number') {
    throw new TypeError(`Expected \`${name}\` to be ${expected}, got ${received(value)}`);
  }
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`Expected \`${name}\` to be ${expected}, got ${received(value)}`);
  }
}

/** The options object, with `null` values dropped: `null` means "not given". */
function toPlanOptions(value: unknown): PlanOptions {
  if (value === undefined || value === null) return {};
  if (typeof value === 'number') return { memoryFraction: value };
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(
      `Expected \`options\` to be a memory fraction, an options object or null, got ${received(value)}`,
    );
  }
  return Object.fromEntries(
    Object.entries(value).filter(([, entry]) => entry !== null),
  ) as PlanOptions;
}

function resolveWorkers(
  workers: unknown,
  env: Record<string, string | undefined>,
): { workers: number; from: string } {
  if (workers === undefined) return { workers: 1, from: 'default' };
  if (workers === 'auto') {
    const slurm = slurmTasksOnNode(env);
    return slurm === undefined
      ? { workers: 1, from: 'auto, no Slurm tasks' }
      : { workers: slurm.tasks, from: slurm.origin };
  }
  if (typeof workers === 'string') {
    throw new RangeError(
      `Expected \`workers\` to be a positive integer or 'auto', got ${received(workers)}`,
    );
  }
  assertPositiveInteger('workers', workers, " or 'auto'");
  return { workers, from: 'argument' };
}

function prepare(nPoints: number, nParams: number, value: unknown): Resolved {
  assertCount('nPoints', nPoints);
  assertCount('nParams', nParams);
  const options = toPlanOptions(value);
  const { bytesPerElement = 8, jacobianOverhead = 6.5, alignTo = 1 } = options;
  const { safetyFactor = DEFAULT_SAFETY_FACTOR, minChunkPoints, maxChunkPoints } = options;
  assertPositive('bytesPerElement', bytesPerElement);
  assertPositive('jacobianOverhead', jacobianOverhead);
  const { workers, from } = resolveWorkers(options.workers, options.env ?? process.env);
  assertPositiveInteger('alignTo', alignTo);
  assertPositive('safetyFactor', safetyFactor);
  if (minChunkPoints !== undefined) assertPositiveInteger('minChunkPoints', minChunkPoints);
  if (maxChunkPoints !== undefined) {
    assertPositiveInteger('maxChunkPoints', maxChunkPoints);
    if (minChunkPoints !== undefined && maxChunkPoints < minChunkPoints) {
      throw new RangeError(
        `Expected \`maxChunkPoints\` to be at least \`minChunkPoints\` (${minChunkPoints}), got ${maxChunkPoints}`,
      );
    }
    if (maxChunkPoints < alignTo) {
      throw new RangeError(
        `Expected \`maxChunkPoints\` to be at least \`alignTo\` (${alignTo}), got ${maxChunkPoints}`,
      );
    }
  }
  let maxElements = options.maxTypedArrayElements;
  if (maxElements === undefined) maxElements = maxTypedArrayElements(bytesPerElement);
  else assertPositiveInteger('maxTypedArrayElements', maxElements);
  return {
    nPoints,
    nParams,
    workers,
    workersFrom: from,
    alignTo,
    safetyFactor,
    minChunkPoints,
    maxChunkPoints,
    maxElements,
    bytesPerElement,
    jacobianOverhead,
    options,
    started: performance.now(),
  };
}

/** Checks sizes and options as the planning functions do, without planning or detecting. */
export function assertPlanInput(nPoints: number, nParams: number, options: unknown): void {
  prepare(nPoints, nParams, options);
}

/** `1,234,567`, whatever the locale. */
function grouped(value: number): string {
  return String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Bytes as the library writes sizes, in units of 1024: `12.00 GB`, `3.50 MB`, `1.25 KB`, `512 bytes`. */
function size(bytes: number): string {
  if (bytes >= GIB) return `${(bytes / GIB).toFixed(2)} GB`;
  if (bytes >= MIB) return `${(bytes / MIB).toFixed(2)} MB`;
  if (bytes >= KIB) return `${(bytes / KIB).toFixed(2)} KB`;
  return `${Math.floor(bytes)} bytes`;
}

/** The largest `n` whose `n × rowBytes × factor` is at most `budget`, exactly as computed. */
function largestFitting(budget: number, rowBytes: number, factor: number): number {
  if (rowBytes === 0) return Number.MAX_SAFE_INTEGER;
  const fits = (n: number): boolean => n * rowBytes * factor <= budget;
  let n = Math.min(Number.MAX_SAFE_INTEGER, Math.floor(budget / (rowBytes * factor)));
  while (n > 0 && !fits(n)) n -= 1;
  while (n < Number.MAX_SAFE_INTEGER && fits(n + 1)) n += 1;
  return n;
}

/** The most whole rows of `nParams` elements one typed array holds. */
function typedArrayRows(maxElements: number, nParams: number): number {
  return nParams === 0 ? Number.MAX_SAFE_INTEGER : Math.floor(maxElements / nParams);
}

/** `the budget`, or `the budget per worker` when several share it. */
function budgetOf(workers: number): string {
  return workers === 1 ? 'the budget' : 'the budget per worker';
}

function standardSize(r: Resolved, decision: StrategyDecision, thresholdBytes: number): Size {
  const { nPoints, nParams, maxElements } = r;
  const rows = typedArrayRows(maxElements, nParams);
  if (nPoints <= rows) {
    const peak = size(decision.peakMemoryGb * GIB);
    return {
      chunkPoints: nPoints,
      reason: `All ${grouped(nPoints)} points in one block: the fit's peak (${peak}) fits ${budgetOf(r.workers)} (${size(thresholdBytes)}) and its Jacobian one typed array.`,
    };
  }
  if (rows === 0) {
    throw new RangeError(
      `Not even one row of ${grouped(nParams)} parameters fits in the largest typed array this Node.js allows (${grouped(maxElements)} elements)`,
    );
  }
  return {
    chunkPoints: rows,
    reason: `The full Jacobian (${grouped(nPoints * nParams)} elements) exceeds the largest typed array this Node.js allows (${grouped(maxElements)} elements): blocks of ${grouped(rows)} rows.`,
  };
}

function chunkedSize(r: Resolved, strategy: keyof typeof LIMITS, thresholdBytes: number): Size {
  const { nPoints, nParams, alignTo, bytesPerElement, maxElements, workers } = r;
  const limits = LIMITS[strategy];
  const outOfCore = strategy === NLSQStrategy.OUT_OF_CORE;
  const factor = outOfCore ? r.safetyFactor : STREAMING_FACTOR;
  const min = r.minChunkPoints ?? Math.min(limits.min, r.maxChunkPoints ?? limits.min);
  const max = r.maxChunkPoints ?? Math.max(limits.max, r.minChunkPoints ?? limits.max);
  const budget = `${budgetOf(workers)} (${size(thresholdBytes)})`;
  const jacobianFits = outOfCore
    ? `Jacobian × ${factor} fits ${budget}`
    : `Jacobian fits half ${budget}`;
  const fitsBudget = `whose ${jacobianFits}`;
  const byBudget = largestFitting(thresholdBytes, nParams * bytesPerElement, factor);
  const byTypedArray = typedArrayRows(maxElements, nParams);
  const fitting = Math.min(byBudget, byTypedArray);
  const limit =
    byBudget <= byTypedArray
      ? `points ${fitsBudget}`
      : `rows one typed array holds (${grouped(maxElements)} elements)`;
  if (nPoints <= Math.min(fitting, max)) {
    return {
      chunkPoints: nPoints,
      reason: `All ${grouped(nPoints)} points in one ${limits.one}, ${fitsBudget}.`,
    };
  }
  const aligned = alignTo * Math.floor(fitting / alignTo);
  if (aligned === 0) {
    const what = alignTo === 1 ? 'one point fits' : `${grouped(alignTo)} points (alignTo) fit`;
    const jacobian = `${alignTo === 1 ? 'its' : 'their'} Jacobian (${size(alignTo * nParams * bytesPerElement)})`;
    const rows = alignTo === 1 ? 'one row' : `${grouped(alignTo)} rows`;
    throw new RangeError(
      byBudget < alignTo
        ? `Not even ${what}: ${jacobian} ${
            outOfCore
              ? `× ${factor} exceeds ${budget}`
              : `exceeds ${size(thresholdBytes / STREAMING_FACTOR)}, half ${budget}`
          }`
        : `Not even ${what}: ${rows} of ${grouped(nParams)} parameters exceed the largest typed array (${grouped(maxElements)} elements)`,
    );
  }
  const maxAligned = alignTo * Math.floor(max / alignTo);
  if (maxAligned === 0) {
    throw new RangeError(
      `Expected \`maxChunkPoints\` to be at least \`alignTo\` (${alignTo}), got ${max}`,
    );
  }
  const multiple = alignTo === 1 ? '' : `, a multiple of ${grouped(alignTo)}`;
  if (maxAligned < aligned) {
    return {
      chunkPoints: maxAligned,
      reason: `${limits.many} of ${grouped(maxAligned)} points, the largest allowed (maxChunkPoints ${grouped(max)})${multiple}: their ${jacobianFits}.`,
    };
  }
  const chunkPoints = aligned;
  if (chunkPoints < min) {
    warnOnce(
      'NLSQ_MEMORY_CHUNK_BELOW_MIN',
      `${limits.many} of ${grouped(chunkPoints)} points, below minChunkPoints (${grouped(min)}): the most ${limit}${multiple}`,
    );
    return {
      chunkPoints,
      reason: `${limits.many} of ${grouped(chunkPoints)} points, below the minimum of ${grouped(min)}: the most ${limit}${multiple}.`,
    };
  }
  return {
    chunkPoints,
    reason: `${limits.many} of ${grouped(chunkPoints)} points, the most ${limit}${multiple}.`,
  };
}

function sizeChunks(r: Resolved, decision: StrategyDecision, thresholdBytes: number): Size {
  if (r.nPoints === 0) return { chunkPoints: 0, reason: 'No points: nothing to allocate.' };
  if (decision.strategy === NLSQStrategy.STANDARD) return standardSize(r, decision, thresholdBytes);
  return chunkedSize(r, decision.strategy, thresholdBytes);
}

function plan(r: Resolved, threshold: AdaptiveThreshold): FitPlan {
  const { nPoints, nParams, workers, bytesPerElement, jacobianOverhead } = r;
  const thresholdBytes = Math.floor(threshold.thresholdBytes / workers);
  const decision = decideNlsqStrategy(nPoints, nParams, threshold.thresholdGb / workers, {
    bytesPerElement,
    jacobianOverhead,
  });
  const { chunkPoints, reason } = sizeChunks(r, decision, thresholdBytes);
  const result: FitPlan = Object.freeze({
    decision,
    workers,
    thresholdBytes,
    chunkPoints,
    chunkCount: nPoints === 0 ? 0 : Math.ceil(nPoints / chunkPoints),
    chunkJacobianBytes: chunkPoints * nParams * bytesPerElement,
    maxTypedArrayBytes: r.maxElements * bytesPerElement,
    reason,
  });
  log(
    'planned %s for %d points x %d params, %d workers (%s), in %s ms: %d chunks of %d points: %s',
    decision.strategy,
    nPoints,
    nParams,
    workers,
    r.workersFrom,
    (performance.now() - r.started).toFixed(3),
    result.chunkCount,
    chunkPoints,
    reason,
  );
  return result;
}

/**
 * Plans a fit of `nPoints` × `nParams`: decides the strategy against this worker's share of the
 * adaptive threshold, then sizes its buffers. `standard` holds all points in one block (in row
 * blocks where the Jacobian exceeds the largest typed array); `out_of_core` takes chunks whose
 * Jacobian × `safetyFactor` fits the budget (homodyne's rule), within [10,000, 500,000];
 * `hybrid_streaming` batches whose Jacobian fits half of it (NLSQ's), within [1,000, 100,000].
 * Sizes are multiples of `alignTo`, never above what fits: where that is below the minimum, a
 * `NLSQ_MEMORY_CHUNK_BELOW_MIN` warning says so.
 *
 * @param nPoints - Number of data points, a non-negative integer.
 * @param nParams - Number of fit parameters, a non-negative integer.
 * @param options - The memory fraction, or options: those of {@link selectNlsqStrategy}, plus
 * `workers`, `alignTo`, `safetyFactor`, `minChunkPoints`, `maxChunkPoints` and
 * `maxTypedArrayElements`. `null` means "not given".
 * @returns A frozen plan: the decision, the per-worker budget, points per chunk, chunk count, and
 * why.
 * @throws TypeError or RangeError for bad sizes or options, before any detection; RangeError
 * when not even `alignTo` points (or one row of the Jacobian) fit, or when `device` is not a
 * visible GPU.
 * @example
 * ```ts
 * const plan = await planNlsqFit(23_000_000, 53, { alignTo: 23 });
 * const jacobian = new Float64Array(plan.chunkPoints * 53); // reused for each of plan.chunkCount chunks
 * const onGpu = await planNlsqFit(23_000_000, 53, { device: 0, workers: 2 }); // 2 workers share GPU 0
 * ```
 */
export async function planNlsqFit(
  nPoints: number,
  nParams: number,
  options?: number | PlanOptions | null,
): Promise<FitPlan> {
  const resolved = prepare(nPoints, nParams, options);
  return plan(resolved, await getAdaptiveMemoryThreshold(resolved.options));
}

/**
 * Like {@link planNlsqFit}, synchronously, with host RAM from `os.totalmem()`. GPUs cannot be
 * detected synchronously: `device` is taken only with `totalMemoryBytes`.
 *
 * @param nPoints - Number of data points, a non-negative integer.
 * @param nParams - Number of fit parameters, a non-negative integer.
 * @param options - The memory fraction, or options as for {@link planNlsqFit}.
 * @returns A frozen plan.
 * @throws TypeError or RangeError, as {@link planNlsqFit}; TypeError for `device` without
 * `totalMemoryBytes`.
 * @example
 * ```ts
 * const plan = planNlsqFitSync(23_000_000, 53, { totalMemoryBytes: 64 * 1024 ** 3, alignTo: 23 });
 * plan.chunkPoints; // 499_997: the largest multiple of 23 up to 500,000
 * ```
 */
export function planNlsqFitSync(
  nPoints: number,
  nParams: number,
  options?: number | PlanOptions | null,
): FitPlan {
  const resolved = prepare(nPoints, nParams, options);
  return plan(resolved, thresholdSync(resolved.options, 'planNlsqFit'));
}

/**
 * Plans from a threshold already computed, so that a report, its threshold and the plan come
 * from one detection (the command, a watch).
 *
 * @internal
 */
export function planWithThreshold(
  nPoints: number,
  nParams: number,
  options: number | PlanOptions | null | undefined,
  threshold: AdaptiveThreshold,
): FitPlan {
  return plan(prepare(nPoints, nParams, options), threshold);
}
