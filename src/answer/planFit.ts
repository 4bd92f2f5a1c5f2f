import { assertCount } from '../core/check.js';
import { checkFractionOrOptions } from '../core/options.js';
import { type FitPlan, type PlanRules, planFromThreshold, planRules } from '../policy/plan.js';
import { resolvePeak } from '../policy/strategy.js';
import { slurmTasksOnNode } from '../sources/slurm.js';
import { maxTypedArrayElements } from '../sources/typedArray.js';
import { thresholdAsync, thresholdSync } from './budget.js';
import { PLANNING_FIELDS, type PlanOptions } from './options.js';

export type { FitPlan } from '../policy/plan.js';
export type { PlanOptions } from './options.js';

/** The options, checked, and the rules of the plan: all before any detection (a watch checks its own so). */
export function preparePlan(
  nPoints: number,
  nParams: number,
  value: unknown,
): { options: PlanOptions; rules: PlanRules } {
  assertCount('nPoints', nPoints);
  assertCount('nParams', nParams);
  const options = checkFractionOrOptions<PlanOptions>(value, PLANNING_FIELDS, [
    'options',
    'a memory fraction, an options object or null',
  ]);
  const peak = resolvePeak(options);
  let workers = 1;
  let workersFrom = 'default';
  if (options.workers === 'auto') {
    const slurm = slurmTasksOnNode(options.env ?? process.env);
    workers = slurm?.tasks ?? 1;
    workersFrom = slurm?.origin ?? 'auto, no Slurm tasks';
  } else if (options.workers != null) {
    workers = options.workers;
    workersFrom = 'argument';
  }
  const maxElements = options.maxTypedArrayElements ?? maxTypedArrayElements(peak.bytesPerElement);
  const { alignTo, safetyFactor, minChunkPoints, maxChunkPoints } = options;
  const rules = planRules(
    nPoints,
    nParams,
    {
      ...(alignTo == null ? {} : { alignTo }),
      ...(safetyFactor == null ? {} : { safetyFactor }),
      ...(minChunkPoints == null ? {} : { minChunkPoints }),
      ...(maxChunkPoints == null ? {} : { maxChunkPoints }),
    },
    { workers, workersFrom, maxElements, peak },
  );
  return { options, rules };
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
 * @param options - The memory fraction, or options: those of {@link selectNlsqStrategy} (`report`
 * among them: then nothing is detected), plus `workers`, `alignTo`, `safetyFactor`,
 * `minChunkPoints`, `maxChunkPoints` and `maxTypedArrayElements`. `null` means "not given".
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
  const prepared = preparePlan(nPoints, nParams, options);
  return planFromThreshold(await thresholdAsync(prepared.options), prepared.rules);
}

/**
 * Like {@link planNlsqFit}, synchronously, with host RAM from `os.totalmem()` (or from `report`).
 * GPUs cannot be detected synchronously: `device` is taken with `devices` or `totalMemoryBytes`.
 *
 * @param nPoints - Number of data points, a non-negative integer.
 * @param nParams - Number of fit parameters, a non-negative integer.
 * @param options - The memory fraction, or options as for {@link planNlsqFit}.
 * @returns A frozen plan.
 * @throws TypeError or RangeError, as {@link planNlsqFit}; TypeError for `device` without
 * `devices` or `totalMemoryBytes`.
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
  const prepared = preparePlan(nPoints, nParams, options);
  return planFromThreshold(thresholdSync(prepared.options, 'planNlsqFit'), prepared.rules);
}
