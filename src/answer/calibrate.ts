import {
  assertBetween,
  assertCount,
  assertNonEmptyString,
  assertObject,
  assertOneOf,
  checkEnv,
} from '../core/check.js';
import { warnOnce } from '../core/diagnostics.js';
import { checkOptions, type Schema } from '../core/options.js';
import { STRATEGIES } from '../core/types.js';
import {
  type CalibrationEntry,
  entryOf,
  findEntry,
  observedOverhead,
  settleOverhead,
} from '../policy/calibration.js';
import type { FitPlan, PlanRules } from '../policy/plan.js';
import { decide, type NLSQStrategy } from '../policy/strategy.js';
import type { AdaptiveThreshold } from '../policy/threshold.js';
import { readStoreSync, storePath } from '../sources/calibrationFile.js';
import type { PeakMeasurement } from './measurePeak.js';

export type { CalibrationEntry } from '../policy/calibration.js';

/** Where observations are kept: the model's `key`, and the file. */
export interface CalibrationOptions {
  /** The model whose overhead is learned: a fit of the same kind keeps the same key. */
  key: string;
  /** The calibration file. Default: `NLSQ_MEMORY_CALIBRATION`, else `$XDG_CACHE_HOME/nlsq-memory/calibration.json` (`%LOCALAPPDATA%\…` on Windows; `~/.cache/…` where the variable is unset, empty or not absolute). */
  store?: string | null;
}

/** Options of {@link recordFitPeak}: where observations are kept, and the environment that names the file. */
export interface RecordFitPeakOptions extends CalibrationOptions {
  /** The environment whose variables name the file (`NLSQ_MEMORY_CALIBRATION`, `XDG_CACHE_HOME`): the plan's `env`, so that both use one file. Default: `process.env`. */
  env?: Record<string, string | undefined> | null;
}

/** Options of {@link readCalibration}: the file, and which of the key's entries. `null` means "not given". */
export interface ReadCalibrationOptions {
  /** The calibration file; default as in {@link CalibrationOptions}. */
  store?: string | null;
  /** The environment whose variables name the file, as in {@link RecordFitPeakOptions}. Default: `process.env`. */
  env?: Record<string, string | undefined> | null;
  /** The strategy whose observations to read. Default: the entry of the key recorded last. */
  strategy?: NLSQStrategy | null;
  /** The element size whose observations to read. Default: as `strategy`. */
  bytesPerElement?: number | null;
}

const SOURCES = ['memory.peak', 'sampled-rss'] as const;
const CALIBRATION_FIELDS: Schema = { key: assertNonEmptyString, store: assertNonEmptyString };
const RECORD_FIELDS: Schema = { ...CALIBRATION_FIELDS, env: checkEnv };

/** Checks the `calibration` option of a plan: `{ key, store? }`. */
export function checkCalibration(name: string, value: unknown): void {
  assertObject(name, value);
  const { key } = checkOptions<CalibrationOptions>(value, CALIBRATION_FIELDS, name);
  assertNonEmptyString(`${name}.key`, key);
}

/**
 * The plan's rules with the overhead learned for `calibration.key` for the strategy the plan ends
 * on (see {@link settleOverhead}), and that decision, so that it is not made again; where that
 * strategy has fewer than 3 runs, the default, saying so.
 */
export function calibrated(
  rules: PlanRules,
  threshold: AdaptiveThreshold,
  calibration: CalibrationOptions,
  env: Record<string, string | undefined>,
): PlanRules {
  const { nPoints, nParams, workers, peak } = rules;
  const { key } = calibration;
  const store = readStoreSync(storePath(calibration.store ?? undefined, env));
  const { decision, overhead, note } = settleOverhead(
    (jacobianOverhead) =>
      decide(
        nPoints,
        nParams,
        threshold.thresholdGb / workers,
        { ...peak, jacobianOverhead },
        workers,
      ),
    (strategy) => entryOf(key, findEntry(store, key, strategy, peak.bytesPerElement)?.observations),
    peak.jacobianOverhead,
  );
  return { ...rules, peak: { ...peak, jacobianOverhead: overhead }, decision, note };
}

/** Checks a measurement handed to {@link recordFitPeak}. */
function checkMeasurement(value: unknown): asserts value is PeakMeasurement {
  assertObject('measurement', value);
  assertCount('measurement.peakBytes', value.peakBytes);
  assertCount('measurement.baselineBytes', value.baselineBytes);
  assertOneOf('measurement.source', value.source, SOURCES);
  assertBetween('measurement.durationMs', value.durationMs, [0, Number.MAX_VALUE], true);
}

/** Checks a plan handed to {@link recordFitPeak}: the figures the observation needs. */
function checkPlan(value: unknown): asserts value is FitPlan {
  assertObject('plan', value);
  assertObject('plan.decision', value.decision);
  assertOneOf('plan.decision.strategy', value.decision.strategy, STRATEGIES);
  assertCount('plan.chunkJacobianBytes', value.chunkJacobianBytes);
  assertCount('plan.residentBytes', value.residentBytes);
  assertCount('plan.bytesPerElement', value.bytesPerElement, true);
}

/**
 * Records what a fit planned by `plan` really used: the overhead it showed, (peak − baseline −
 * `plan.residentBytes`) / the Jacobian the plan allocates at once, kept under `key`, the plan's
 * strategy and element size (the last 50). From 3 observations on, plans with
 * `calibration: { key }` use the learned overhead. The file is written atomically under a lock,
 * merged with what concurrent writers added; a corrupt or foreign file is set aside with a
 * warning. A plan without a Jacobian, or a fit that added nothing over its baseline and what its
 * plan keeps resident, records nothing, with warning `NLSQ_MEMORY_CALIBRATION_SKIPPED`; so does a
 * file whose lock another writer holds for 10 s: nothing is ever written without the lock.
 *
 * @param plan - The plan the fit ran with, from {@link planNlsqFit}.
 * @param measurement - What {@link startPeakMeasurement} saw around the fit.
 * @param options - `key` (the model), `store` (the file) and `env` (the plan's: the variables
 * that name the file).
 * @returns What is known of the model's overhead now.
 * @throws TypeError or RangeError for a bad plan, measurement, key, store or env, before any I/O;
 * the file system's error where the file cannot be written (no temporary file is left).
 * @example
 * ```ts
 * const plan = await planNlsqFit(23_000_000, 53, { calibration: { key: 'xpcs-laminar' } });
 * const probe = startPeakMeasurement();
 * runFit(plan);
 * await recordFitPeak(plan, probe.stop(), { key: 'xpcs-laminar' });
 * ```
 */
export async function recordFitPeak(
  plan: FitPlan,
  measurement: PeakMeasurement,
  options: RecordFitPeakOptions,
): Promise<CalibrationEntry> {
  checkPlan(plan);
  checkMeasurement(measurement);
  assertObject('options', options);
  const { key, store, env } = checkOptions<RecordFitPeakOptions>(options, RECORD_FIELDS);
  assertNonEmptyString('key', key);
  const path = storePath(store ?? undefined, env ?? process.env);
  const at = { key, strategy: plan.decision.strategy, bytesPerElement: plan.bytesPerElement };
  const overhead = observedOverhead(
    measurement.peakBytes,
    measurement.baselineBytes,
    plan.residentBytes,
    plan.chunkJacobianBytes,
  );
  if (overhead === null) {
    warnOnce(
      'NLSQ_MEMORY_CALIBRATION_SKIPPED',
      plan.chunkJacobianBytes === 0
        ? `Nothing recorded for ${key}: the plan has no Jacobian to measure an overhead against`
        : `Nothing recorded for ${key}: the fit added nothing over its baseline and what its plan keeps resident`,
    );
  }
  // Writing the file is loaded on first use: importing the library does not parse it.
  const { record } = await import('./recording.js');
  return record(path, at, overhead);
}

/**
 * What is known of a model's overhead: how many observations are kept, and the overhead plans
 * with `calibration: { key }` use now (`null` below 3 observations).
 *
 * @param key - The model.
 * @param options - `store` (the file), `env` (the variables that name it), `strategy` and
 * `bytesPerElement` (which entry; default the one recorded last).
 * @returns The entry; `{ key, observations: 0, overhead: null }` when nothing was recorded.
 * @throws TypeError or RangeError for a bad key or option.
 * @example
 * ```ts
 * const { observations, overhead } = await readCalibration('xpcs-laminar');
 * ```
 */
export async function readCalibration(
  key: string,
  options?: ReadCalibrationOptions | null,
): Promise<CalibrationEntry> {
  assertNonEmptyString('key', key);
  const checked = checkOptions<ReadCalibrationOptions>(options, {
    store: assertNonEmptyString,
    env: checkEnv,
    strategy: (name, value) => assertOneOf(name, value, STRATEGIES),
    bytesPerElement: (name, value) => assertCount(name, value, true),
  });
  const { read } = await import('./recording.js');
  return read(
    storePath(checked.store ?? undefined, checked.env ?? process.env),
    key,
    checked.strategy ?? undefined,
    checked.bytesPerElement ?? undefined,
  );
}
