import { assertCount } from '../core/check.js';
import { warnOnce } from '../core/diagnostics.js';
import { checkFractionOrOptions } from '../core/options.js';
import { type FitPlan, type PlanRules, planFromThreshold, planRules } from '../policy/plan.js';
import { resolvePeak } from '../policy/strategy.js';
import type { AdaptiveThreshold } from '../policy/threshold.js';
import { slurmTasksOnNode } from '../sources/slurm.js';
import { maxTypedArrayElements } from '../sources/typedArray.js';
import { thresholdAsync, thresholdSync } from './budget.js';
import { calibrated } from './calibrate.js';
import { PLANNING_FIELDS, type PlanOptions } from './options.js';

export type { FitPlan } from '../policy/plan.js';
export type { PlanOptions } from './options.js';

/** The workers sharing the memory: given, or `'auto'`: Slurm's tasks on this node. */
function resolveWorkers(options: PlanOptions): { workers: number; workersFrom: string } {
  if (options.workers == null) return { workers: 1, workersFrom: 'default' };
  if (options.workers !== 'auto') return { workers: options.workers, workersFrom: 'argument' };
  const slurm = slurmTasksOnNode(options.env ?? process.env);
  if (slurm === undefined) return { workers: 1, workersFrom: 'auto, no Slurm tasks' };
  if (slurm.malformed !== undefined) {
    const count =
      slurm.origin === 'SLURM_NTASKS'
        ? `every task of the job (SLURM_NTASKS), ${slurm.tasks}`
        : 'one task, since SLURM_NTASKS is not set either';
    warnOnce(
      'NLSQ_MEMORY_WORKERS_GUESSED',
      `SLURM_TASKS_PER_NODE=${JSON.stringify(slurm.malformed)} cannot be read: planning for ${count}`,
    );
  } else if (slurm.guessed) {
    warnOnce(
      'NLSQ_MEMORY_WORKERS_GUESSED',
      `SLURM_NODEID does not say which entry of SLURM_TASKS_PER_NODE=${options.env?.SLURM_TASKS_PER_NODE ?? process.env.SLURM_TASKS_PER_NODE} is this node's: planning for the most tasks on any node, ${slurm.tasks}`,
    );
  }
  return { workers: slurm.tasks, workersFrom: slurm.origin };
}

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
  const { workers, workersFrom } = resolveWorkers(options);
  const typedArrayElements =
    options.maxTypedArrayElements ?? maxTypedArrayElements(peak.bytesPerElement);
  const { alignTo, safetyFactor, residentBytesPerPoint, maxBufferBytes } = options;
  const { minChunkPoints, maxChunkPoints } = options;
  const rules = planRules(
    nPoints,
    nParams,
    {
      ...(alignTo == null ? {} : { alignTo }),
      ...(safetyFactor == null ? {} : { safetyFactor }),
      ...(residentBytesPerPoint == null ? {} : { residentBytesPerPoint }),
      ...(maxBufferBytes == null ? {} : { maxBufferBytes }),
      ...(minChunkPoints == null ? {} : { minChunkPoints }),
      ...(maxChunkPoints == null ? {} : { maxChunkPoints }),
    },
    { workers, workersFrom, typedArrayElements, peak },
  );
  return { options, rules };
}

/** The plan from a threshold, with the overhead learned for `calibration.key` where asked. */
function planWith(
  { options, rules }: { options: PlanOptions; rules: PlanRules },
  threshold: AdaptiveThreshold,
): FitPlan {
  const { calibration } = options;
  return planFromThreshold(
    threshold,
    calibration == null
      ? rules
      : calibrated(rules, threshold, calibration, options.env ?? process.env),
  );
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
  return planWith(prepared, await thresholdAsync(prepared.options));
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
  return planWith(prepared, thresholdSync(prepared.options, 'planNlsqFit'));
}
