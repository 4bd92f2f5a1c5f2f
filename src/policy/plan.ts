import { assertCount, assertMultiplier, assertPositiveInteger, expected } from '../core/check.js';
import { now } from '../core/clock.js';
import { logger } from '../core/diagnostics.js';
import type { Schema } from '../core/options.js';
import { type SizeInput, sizeChunks } from './chunks.js';
import { decide, type Peak, type StrategyDecision } from './strategy.js';
import type { AdaptiveThreshold } from './threshold.js';

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
  /** Bytes per Jacobian element the plan was sized for (8 for float64). */
  readonly bytesPerElement: number;
  /** Bytes the plan budgets as held whole while the chunks stream: `out_of_core`, `nPoints × residentBytesPerPoint` (the index array); otherwise 0. */
  readonly residentBytes: number;
  /** One sentence: why this size. */
  readonly reason: string;
}

/** The plan's own options (`workers` as a count: `'auto'` is resolved before), and their checks. */
export interface PlanRules extends SizeInput {
  /** Where `workers` came from, for the debug log. */
  workersFrom: string;
  /** The most elements a typed array holds on this Node.js. */
  typedArrayElements: number;
  /** What the reason adds about the overhead (learned from measured peaks, or not yet). */
  note?: string;
  /** The decision against this threshold, where calibration already made it: not made again. */
  decision?: StrategyDecision;
}

const DEFAULT_RESIDENT_BYTES = 8;
const log = logger('plan');

/** The plan's own options, each with its check; `workers` takes `'auto'` too. */
export const PLAN_FIELDS: Schema = {
  workers: (name, value) => {
    if (value === 'auto') return;
    if (typeof value === 'string') {
      throw expected(TypeError, name, "a positive integer or 'auto'", value);
    }
    assertPositiveInteger(name, value, " or 'auto'");
  },
  alignTo: (name, value) => assertPositiveInteger(name, value),
  safetyFactor: assertMultiplier,
  minChunkPoints: (name, value) => assertPositiveInteger(name, value),
  maxChunkPoints: (name, value) => assertPositiveInteger(name, value),
  maxTypedArrayElements: (name, value) => assertPositiveInteger(name, value),
  residentBytesPerPoint: (name, value) => assertCount(name, value),
  maxBufferBytes: (name, value) => assertCount(name, value, true),
};

/** The chunk bounds, each already checked alone, checked together. */
function checkChunkBounds(
  alignTo: number,
  minChunkPoints: number | undefined,
  maxChunkPoints: number | undefined,
): void {
  if (maxChunkPoints === undefined) return;
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

/** The plan's own options, checked by {@link PLAN_FIELDS}, with `workers` already a count. */
export interface PlanChoices {
  alignTo?: number;
  safetyFactor?: number;
  residentBytesPerPoint?: number;
  maxBufferBytes?: number;
  minChunkPoints?: number;
  maxChunkPoints?: number;
}

/** The rules of a plan: the choices with their defaults, checked together. */
export function planRules(
  nPoints: number,
  nParams: number,
  choices: PlanChoices,
  context: { workers: number; workersFrom: string; typedArrayElements: number; peak: Peak },
): PlanRules {
  const { peak, typedArrayElements } = context;
  const {
    alignTo = 1,
    // Left out, the decision's own overhead: a chunk never holds more than it allows in memory.
    safetyFactor,
    residentBytesPerPoint = DEFAULT_RESIDENT_BYTES,
    maxBufferBytes,
    minChunkPoints,
    maxChunkPoints,
  } = choices;
  checkChunkBounds(alignTo, minChunkPoints, maxChunkPoints);
  const bufferElements =
    maxBufferBytes === undefined ? undefined : Math.floor(maxBufferBytes / peak.bytesPerElement);
  const byBuffer = bufferElements !== undefined && bufferElements < typedArrayElements;
  return {
    nPoints,
    nParams,
    alignTo,
    safetyFactor,
    residentBytesPerPoint,
    minChunkPoints,
    maxChunkPoints,
    maxElements: byBuffer ? bufferElements : typedArrayElements,
    cap: byBuffer
      ? {
          largest: `the largest buffer allowed (maxBufferBytes ${maxBufferBytes})`,
          one: 'one buffer of maxBufferBytes',
        }
      : { largest: 'the largest typed array this Node.js allows', one: 'one typed array' },
    ...context,
  };
}

/**
 * Plans a fit from a threshold: decides against each worker's share, then sizes the chunks.
 * Pure: the threshold and every rule are given.
 */
export function planFromThreshold(threshold: AdaptiveThreshold, rules: PlanRules): FitPlan {
  const started = now();
  const { nPoints, nParams, workers, peak } = rules;
  const thresholdBytes = Math.floor(threshold.thresholdBytes / workers);
  const decision =
    rules.decision ?? decide(nPoints, nParams, threshold.thresholdGb / workers, peak, workers);
  const size = sizeChunks(rules, decision, thresholdBytes);
  const { chunkPoints } = size;
  const reason =
    rules.note === undefined ? size.reason : `${size.reason.slice(0, -1)} (${rules.note}).`;
  const plan: FitPlan = Object.freeze({
    decision,
    workers,
    thresholdBytes,
    chunkPoints,
    chunkCount: nPoints === 0 ? 0 : Math.ceil(nPoints / chunkPoints),
    chunkJacobianBytes: chunkPoints * nParams * peak.bytesPerElement,
    maxTypedArrayBytes: rules.typedArrayElements * peak.bytesPerElement,
    bytesPerElement: peak.bytesPerElement,
    residentBytes: size.residentBytes,
    reason,
  });
  log(
    'planned %s for %d points x %d params, %d workers (%s), in %s ms: %d chunks of %d points: %s',
    decision.strategy,
    nPoints,
    nParams,
    workers,
    rules.workersFrom,
    (now() - started).toFixed(3),
    plan.chunkCount,
    chunkPoints,
    reason,
  );
  return plan;
}
