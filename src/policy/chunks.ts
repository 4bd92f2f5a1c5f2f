import { warnOnce } from '../core/diagnostics.js';
import { formatFactor, formatSize, GIB, grouped } from '../core/units.js';
import { largestFitting } from './largest.js';
import { NLSQStrategy, type Peak, type StrategyDecision } from './strategy.js';

/** What sizing the chunks needs: the counts and the plan's rules. */
export interface SizeInput {
  nPoints: number;
  nParams: number;
  workers: number;
  alignTo: number;
  /** `out_of_core`: a chunk's Jacobian × this fits the budget; `undefined`: the overhead's. */
  safetyFactor: number | undefined;
  /** Bytes per point held whole while chunks stream (the index array), off the chunks' budget. */
  residentBytesPerPoint: number;
  minChunkPoints: number | undefined;
  maxChunkPoints: number | undefined;
  /** The most elements one buffer may hold: a typed array's, or fewer under `maxBufferBytes`. */
  maxElements: number;
  /** What sets `maxElements`, as the reasons name it: the largest one, and one of them. */
  cap: { largest: string; one: string };
  peak: Peak;
}

/** A chunk size, why, and the bytes its budget left out as held whole beside the chunks. */
export interface Size {
  chunkPoints: number;
  reason: string;
  residentBytes: number;
}

/** Per strategy: the default smallest and largest chunk, and what the reason calls one. */
const LIMITS = {
  out_of_core: { min: 10_000, max: 500_000, one: 'chunk', many: 'Chunks' },
  hybrid_streaming: { min: 1_000, max: 100_000, one: 'batch', many: 'Batches' },
} as const;
/** NLSQ's streaming batches take half the budget: a Jacobian × 2 fits it. */
const STREAMING_FACTOR = 2;

/** The largest `n` whose `n × rowBytes × factor` is at most `budget`, exactly as computed. */
function pointsFitting(budget: number, rowBytes: number, factor: number): number {
  if (rowBytes === 0) return budget >= 0 ? Number.MAX_SAFE_INTEGER : 0;
  if (budget <= 0) return 0;
  return largestFitting((n) => n * rowBytes * factor <= budget, budget / (rowBytes * factor));
}

/** The most whole rows of `nParams` elements one buffer holds. */
function bufferRows(maxElements: number, nParams: number): number {
  return nParams === 0 ? Number.MAX_SAFE_INTEGER : Math.floor(maxElements / nParams);
}

/** `the budget`, or `the budget per worker` when several share it. */
function budgetOf(workers: number): string {
  return workers === 1 ? 'the budget' : 'the budget per worker';
}

function standardSize(r: SizeInput, decision: StrategyDecision, thresholdBytes: number): Size {
  const { nPoints, nParams, maxElements } = r;
  const cap = r.cap.largest;
  const rows = bufferRows(maxElements, nParams);
  if (nPoints <= rows) {
    const peak = formatSize(decision.peakMemoryGb * GIB);
    return {
      chunkPoints: nPoints,
      reason: `All ${grouped(nPoints)} points in one block: the fit's peak (${peak}) fits ${budgetOf(r.workers)} (${formatSize(thresholdBytes)}) and its Jacobian ${r.cap.one}.`,
      residentBytes: 0,
    };
  }
  if (rows === 0) {
    throw new RangeError(
      `Not even one row of ${grouped(nParams)} parameters fits in ${cap} (${grouped(maxElements)} elements)`,
    );
  }
  return {
    chunkPoints: rows,
    reason: `The full Jacobian (${grouped(nPoints * nParams)} elements) exceeds ${cap} (${grouped(maxElements)} elements): blocks of ${grouped(rows)} rows.`,
    residentBytes: 0,
  };
}

function chunkedSize(r: SizeInput, strategy: keyof typeof LIMITS, thresholdBytes: number): Size {
  const { nPoints, nParams, alignTo, maxElements, workers } = r;
  const cap = r.cap.largest;
  const { bytesPerElement } = r.peak;
  const limits = LIMITS[strategy];
  const outOfCore = strategy === NLSQStrategy.OUT_OF_CORE;
  const factor = outOfCore ? (r.safetyFactor ?? r.peak.jacobianOverhead) : STREAMING_FACTOR;
  const min = r.minChunkPoints ?? Math.min(limits.min, r.maxChunkPoints ?? limits.min);
  const max = r.maxChunkPoints ?? Math.max(limits.max, r.minChunkPoints ?? limits.max);
  // Out of core, the index array stays whole while chunks stream: it is off their budget.
  const resident = outOfCore ? nPoints * r.residentBytesPerPoint : 0;
  const chunkBudget = thresholdBytes - resident;
  const less = resident === 0 ? '' : ` less what stays resident (${formatSize(resident)})`;
  const budget = `${budgetOf(workers)} (${formatSize(thresholdBytes)})${less}`;
  const jacobianFits = outOfCore
    ? `Jacobian × ${formatFactor(factor)} fits ${budget}`
    : `Jacobian fits half ${budget}`;
  const fitsBudget = `whose ${jacobianFits}`;
  const byBudget = pointsFitting(chunkBudget, nParams * bytesPerElement, factor);
  const byBuffer = bufferRows(maxElements, nParams);
  const fitting = Math.min(byBudget, byBuffer);
  const limit =
    byBudget <= byBuffer
      ? `points ${fitsBudget}`
      : `rows ${r.cap.one} holds (${grouped(maxElements)} elements)`;
  if (nPoints <= Math.min(fitting, max)) {
    return {
      chunkPoints: nPoints,
      reason: `All ${grouped(nPoints)} points in one ${limits.one}, ${fitsBudget}.`,
      residentBytes: resident,
    };
  }
  const aligned = alignTo * Math.floor(fitting / alignTo);
  if (aligned === 0) {
    const what = alignTo === 1 ? 'one point fits' : `${grouped(alignTo)} points (alignTo) fit`;
    const jacobian = `${alignTo === 1 ? 'its' : 'their'} Jacobian (${formatSize(alignTo * nParams * bytesPerElement)})`;
    const rows = alignTo === 1 ? 'one row' : `${grouped(alignTo)} rows`;
    throw new RangeError(
      byBudget < alignTo
        ? `Not even ${what}: ${jacobian} ${
            outOfCore
              ? `× ${formatFactor(factor)} exceeds ${budget}`
              : `exceeds ${formatSize(thresholdBytes / STREAMING_FACTOR)}, half ${budget}`
          }`
        : `Not even ${what}: ${rows} of ${grouped(nParams)} parameters exceed ${cap} (${grouped(maxElements)} elements)`,
    );
  }
  const maxAligned = alignTo * Math.floor(max / alignTo);
  if (maxAligned === 0) {
    throw new RangeError(
      r.maxChunkPoints === undefined
        ? `\`alignTo\` (${grouped(alignTo)}) is above the largest ${limits.one}, ${grouped(max)} by default for ${strategy}: give a smaller \`alignTo\`, or a \`maxChunkPoints\` of at least ${grouped(alignTo)}`
        : `Expected \`maxChunkPoints\` to be at least \`alignTo\` (${alignTo}), got ${max}`,
    );
  }
  const multiple = alignTo === 1 ? '' : `, a multiple of ${grouped(alignTo)}`;
  if (maxAligned < aligned) {
    return {
      chunkPoints: maxAligned,
      reason: `${limits.many} of ${grouped(maxAligned)} points, the largest allowed (maxChunkPoints ${grouped(max)})${multiple}: their ${jacobianFits}.`,
      residentBytes: resident,
    };
  }
  const chunkPoints = aligned;
  if (chunkPoints < min) {
    warnOnce(
      'NLSQ_MEMORY_CHUNK_BELOW_MIN',
      `${limits.many} of ${grouped(chunkPoints)} point${chunkPoints === 1 ? '' : 's'}, below minChunkPoints (${grouped(min)}): the most ${limit}${multiple}`,
    );
    return {
      chunkPoints,
      reason: `${limits.many} of ${grouped(chunkPoints)} point${chunkPoints === 1 ? '' : 's'}, below the minimum of ${grouped(min)}: the most ${limit}${multiple}.`,
      residentBytes: resident,
    };
  }
  return {
    chunkPoints,
    reason: `${limits.many} of ${grouped(chunkPoints)} points, the most ${limit}${multiple}.`,
    residentBytes: resident,
  };
}

/** How many points each chunk or batch holds for `decision`, and why. */
export function sizeChunks(r: SizeInput, decision: StrategyDecision, thresholdBytes: number): Size {
  if (r.nPoints === 0) {
    return { chunkPoints: 0, reason: 'No points: nothing to allocate.', residentBytes: 0 };
  }
  if (decision.strategy === NLSQStrategy.STANDARD) return standardSize(r, decision, thresholdBytes);
  return chunkedSize(r, decision.strategy, thresholdBytes);
}
