import { MAX_MULTIPLIER } from '../core/check.js';
import type { CalibrationStore as Store, StoredEntry } from '../core/types.js';
import { formatFactor } from '../core/units.js';
import type { NLSQStrategy, StrategyDecision } from './strategy.js';

/** What is known of a model's overhead. */
export interface CalibrationEntry {
  /** The model. */
  key: string;
  /** How many observations are kept (at most 50). */
  observations: number;
  /** The overhead plans use now: the 95th percentile × 1.1, at least 1; `null` below 3 observations. */
  overhead: number | null;
}

/** The most observations kept per entry: the newest. */
export const MAX_OBSERVATIONS = 50;
/** How many observations it takes before plans use what was learned. */
export const MIN_OBSERVATIONS = 3;

/**
 * The overhead plans use from these observations: the 95th percentile (nearest rank) × 1.1, at
 * least 1; `null` with fewer than {@link MIN_OBSERVATIONS}.
 */
export function learnedOverhead(observations: readonly number[]): number | null {
  if (observations.length < MIN_OBSERVATIONS) return null;
  const sorted = [...observations].sort((a, b) => a - b);
  const p95 = sorted[Math.ceil(0.95 * sorted.length) - 1] ?? 0;
  return Math.max(1, p95 * 1.1);
}

/**
 * The overhead one fit showed: the memory it added over its baseline, less what its plan budgets
 * as resident beside the chunks (the index array), per byte of the Jacobian it allocated at once,
 * at most 1,000,000; `null` when there is no Jacobian or it added nothing beyond what stays resident.
 */
export function observedOverhead(
  peakBytes: number,
  baselineBytes: number,
  residentBytes: number,
  jacobianBytes: number,
): number | null {
  const added = peakBytes - baselineBytes - residentBytes;
  if (jacobianBytes <= 0 || added <= 0) return null;
  // As an option may be at most: a tiny Jacobian beside a big fit shows no more than that.
  return Math.min(MAX_MULTIPLIER, added / jacobianBytes);
}

/** Whether `entry` is the one for this model, strategy and element size. */
function matches(
  entry: StoredEntry,
  key: string,
  strategy: NLSQStrategy,
  bytesPerElement: number,
): boolean {
  return (
    entry.key === key && entry.strategy === strategy && entry.bytesPerElement === bytesPerElement
  );
}

/**
 * The entry for `key`: of this strategy and element size where given, else the one recorded
 * last; `undefined` when there is none.
 */
export function findEntry(
  store: Store,
  key: string,
  strategy?: NLSQStrategy,
  bytesPerElement?: number,
): StoredEntry | undefined {
  if (strategy !== undefined && bytesPerElement !== undefined) {
    return store.entries.find((entry) => matches(entry, key, strategy, bytesPerElement));
  }
  let latest: StoredEntry | undefined;
  for (const entry of store.entries) {
    if (entry.key !== key) continue;
    if (strategy !== undefined && entry.strategy !== strategy) continue;
    if (bytesPerElement !== undefined && entry.bytesPerElement !== bytesPerElement) continue;
    if (latest === undefined || entry.updatedAt > latest.updatedAt) latest = entry;
  }
  return latest;
}

/** The store with `overhead` added to its entry (made when missing), the oldest beyond the cap dropped. */
export function withObservation(
  store: Store,
  at: { key: string; strategy: NLSQStrategy; bytesPerElement: number },
  overhead: number,
  now: number,
): Store {
  const { key, strategy, bytesPerElement } = at;
  const old = store.entries.find((entry) => matches(entry, key, strategy, bytesPerElement));
  const observations = [...(old?.observations ?? []), overhead].slice(-MAX_OBSERVATIONS);
  const entry: StoredEntry = { key, strategy, bytesPerElement, observations, updatedAt: now };
  return {
    version: 1,
    entries: [...store.entries.filter((other) => other !== old), entry],
  };
}

/** The entry of `key` as plans see it, from its kept observations. */
export function entryOf(
  key: string,
  observations: readonly number[] | undefined,
): CalibrationEntry {
  return {
    key,
    observations: observations?.length ?? 0,
    overhead: learnedOverhead(observations ?? []),
  };
}

/** What is learned for one strategy: the overhead plans use (`null` below 3 runs), from how many runs. */
export interface Learned {
  observations: number;
  overhead: number | null;
}

/** The decision a calibrated plan ends on, the overhead it used, and what its reason says of it. */
export interface Settled {
  decision: StrategyDecision;
  overhead: number;
  note: string;
}

/** One strategy's overhead: learned, or `base` below 3 runs. */
interface Used extends Learned {
  strategy: NLSQStrategy;
  value: number;
}

/** How the reason names an overhead used where two strategies decide each other's. */
function described(used: Used, base: number): string {
  const { strategy, observations } = used;
  return used.overhead === null
    ? `${formatFactor(base)}, the default (${strategy}: ${observations} of ${MIN_OBSERVATIONS} runs recorded)`
    : `${used.value.toFixed(2)} learned from ${observations} ${strategy} runs`;
}

/**
 * The overhead learned for the strategy a plan ends on (`base` where it has too few runs), and
 * that decision. Decided with `base` first, then with what that strategy learned; where that moves
 * the strategy, with what the new one learned. Where each overhead decides the other's strategy
 * (no overhead agrees with its decision), the larger: the safe one. Only the overhead moves the
 * strategy between `standard` and `out_of_core` (the index array alone decides streaming), so this
 * takes at most three decisions.
 */
export function settleOverhead(
  decideWith: (overhead: number) => StrategyDecision,
  learnedFor: (strategy: NLSQStrategy) => Learned,
  base: number,
): Settled {
  const use = (strategy: NLSQStrategy): Used => {
    const learned = learnedFor(strategy);
    return { ...learned, strategy, value: learned.overhead ?? base };
  };
  const settled = (decision: StrategyDecision, used: Used): Settled => ({
    decision,
    overhead: used.value,
    note:
      used.overhead === null
        ? `overhead ${formatFactor(base)}: ${used.observations} of ${MIN_OBSERVATIONS} runs recorded to learn it`
        : `overhead ${used.value.toFixed(2)} learned from ${used.observations} runs`,
  });
  const first = decideWith(base);
  const own = use(first.strategy);
  if (own.value === base) return settled(first, own);
  const moved = decideWith(own.value);
  if (moved.strategy === first.strategy) return settled(moved, own);
  const next = use(moved.strategy);
  if (next.value === own.value) return settled(moved, next);
  const back = decideWith(next.value);
  if (back.strategy === moved.strategy) return settled(back, next);
  // Each decides the other's strategy: the larger overhead, which decides the heavier one.
  const [larger, smaller, decision] =
    next.value > own.value ? [next, own, back] : [own, next, moved];
  return {
    decision,
    overhead: larger.value,
    note: `overhead ${described(larger, base)}, the larger of two that decide each other's strategy: ${smaller.strategy}'s is ${smaller.overhead === null ? `${formatFactor(base)}, the default` : `${smaller.value.toFixed(2)} from ${smaller.observations} runs`}`,
  };
}
