import { assertCount } from '../core/check.js';
import { now } from '../core/clock.js';
import { logger } from '../core/diagnostics.js';
import { checkFractionOrOptions } from '../core/options.js';
import { decide, resolvePeak, type StrategyDecision } from '../policy/strategy.js';
import type { AdaptiveThreshold } from '../policy/threshold.js';
import { thresholdAsync, thresholdSync } from './budget.js';
import { STRATEGY_FIELDS, type StrategyOptions } from './options.js';

export type { StrategyOptions } from './options.js';

const log = logger('strategy');

/** The counts and options, checked before any detection. */
function check(nPoints: number, nParams: number, memoryFraction: unknown): StrategyOptions {
  assertCount('nPoints', nPoints);
  assertCount('nParams', nParams);
  return checkFractionOrOptions<StrategyOptions>(memoryFraction, STRATEGY_FIELDS);
}

/** The decision against `threshold`, logged with how long selection took. */
function decided(
  nPoints: number,
  nParams: number,
  options: StrategyOptions,
  threshold: AdaptiveThreshold,
  started: number,
): StrategyDecision {
  const decision = decide(nPoints, nParams, threshold.thresholdGb, resolvePeak(options));
  log(
    'selected %s for %d points x %d params in %s ms: %s',
    decision.strategy,
    nPoints,
    nParams,
    (now() - started).toFixed(3),
    decision.reason,
  );
  return decision;
}

/**
 * Selects the strategy for `nPoints` × `nParams` against the adaptive memory threshold: the
 * fraction (argument, else `NLSQ_MEMORY_FRACTION`, else 0.75) of the memory this process may use,
 * or, with `device`, of that GPU's memory.
 *
 * @param nPoints - Number of data points, a non-negative integer.
 * @param nParams - Number of fit parameters, a non-negative integer.
 * @param memoryFraction - The fraction, or options: those of {@link getAdaptiveMemoryThreshold}
 * (`report` among them: then nothing is detected), plus `bytesPerElement` and `jacobianOverhead`.
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
  const started = now();
  const options = check(nPoints, nParams, memoryFraction);
  return decided(nPoints, nParams, options, await thresholdAsync(options), started);
}

/**
 * Like {@link selectNlsqStrategy}, synchronously, with host RAM from `os.totalmem()` (or from
 * `report`). GPUs cannot be detected synchronously: `device` is taken with `devices` or
 * `totalMemoryBytes`.
 *
 * @param nPoints - Number of data points, a non-negative integer.
 * @param nParams - Number of fit parameters, a non-negative integer.
 * @param memoryFraction - The fraction, or options as for {@link selectNlsqStrategy}.
 * @returns A frozen decision with its figures and reason.
 * @throws TypeError or RangeError for bad sizes or options; TypeError for `device` without
 * `devices` or `totalMemoryBytes`.
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
  const started = now();
  const options = check(nPoints, nParams, memoryFraction);
  const threshold = thresholdSync(options, 'selectNlsqStrategy');
  return decided(nPoints, nParams, options, threshold, started);
}
