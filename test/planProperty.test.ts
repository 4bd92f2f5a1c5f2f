import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  decideNlsqStrategy,
  type FitPlan,
  getAdaptiveMemoryThresholdSync,
  type PlanOptions,
  planNlsqFitSync,
} from '../src/index.js';
import { maxTypedArrayElements } from '../src/sources/typedArray.js';
import { captureWarnings, GIB } from './helpers.js';

/** The threshold the plan shares out: its options that are the threshold's. */
const thresholdOf = (given: PlanOptions) =>
  getAdaptiveMemoryThresholdSync({
    totalMemoryBytes: given.totalMemoryBytes ?? null,
    memoryFraction: given.memoryFraction ?? null,
    env: {},
  });

afterEach(() => {
  vi.restoreAllMocks();
});

const DEFAULT_MAX = { out_of_core: 500_000, hybrid_streaming: 100_000 } as const;

const sizes = fc.record({
  nPoints: fc.oneof(fc.nat(1000), fc.nat(2_000_000_000), fc.constant(23_000_000)),
  nParams: fc.oneof(fc.nat(60), fc.nat(5000)),
});

const options: fc.Arbitrary<PlanOptions> = fc.record(
  {
    totalMemoryBytes: fc.oneof(
      fc.integer({ min: 1, max: 4 * 1024 * 1024 }).map((mib) => mib * 1024 ** 2),
      fc.double({ min: 1, max: 2 ** 44, noNaN: true }).map(Math.floor),
    ),
    memoryFraction: fc.double({ min: 0.1, max: 0.9, noNaN: true }),
    workers: fc.integer({ min: 1, max: 64 }),
    alignTo: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 1000 })),
    safetyFactor: fc.double({ min: 0.5, max: 20, noNaN: true }),
    bytesPerElement: fc.constantFrom(1, 4, 8),
    jacobianOverhead: fc.double({ min: 1, max: 13, noNaN: true }),
    minChunkPoints: fc.integer({ min: 1, max: 1_000_000 }),
    maxChunkPoints: fc.integer({ min: 1, max: 1_000_000 }),
    maxTypedArrayElements: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    residentBytesPerPoint: fc.constantFrom(0, 4, 8, 16),
    maxBufferBytes: fc.oneof(
      fc.integer({ min: 1, max: 4096 }),
      fc.integer({ min: 1, max: 2 ** 40 }),
      fc.constant(4 * 1024 ** 3),
    ),
  },
  {
    requiredKeys: ['totalMemoryBytes', 'memoryFraction', 'workers', 'alignTo'],
  },
);

/** The most elements one buffer may hold: a typed array's, or fewer under `maxBufferBytes`. */
function capOf(given: PlanOptions): number {
  const bytesPerElement = given.bytesPerElement ?? 8;
  const typed = given.maxTypedArrayElements ?? maxTypedArrayElements(bytesPerElement);
  const buffer =
    given.maxBufferBytes == null ? typed : Math.floor(given.maxBufferBytes / bytesPerElement);
  return Math.min(typed, buffer);
}

/** The rules no plan may break. */
function check(nPoints: number, nParams: number, given: PlanOptions, plan: FitPlan): void {
  const { strategy } = plan.decision;
  const bytesPerElement = given.bytesPerElement ?? 8;
  const overhead = given.jacobianOverhead ?? 6.5;
  const safetyFactor = given.safetyFactor ?? overhead;
  const resident = nPoints * (given.residentBytesPerPoint ?? 8);
  const cap = capOf(given);
  const { chunkPoints, chunkCount, chunkJacobianBytes, thresholdBytes } = plan;

  expect(chunkPoints).toBeLessThanOrEqual(nPoints);
  expect(chunkPoints * chunkCount).toBeGreaterThanOrEqual(nPoints);
  expect(Number.isSafeInteger(chunkPoints) && Number.isSafeInteger(chunkCount)).toBe(true);
  if (nPoints === 0) {
    expect([chunkPoints, chunkCount]).toEqual([0, 0]);
    return;
  }
  expect(chunkPoints).toBeGreaterThan(0);
  expect((chunkCount - 1) * chunkPoints).toBeLessThan(nPoints);
  expect(chunkPoints * nParams).toBeLessThanOrEqual(cap);
  // No chunk's Jacobian above the largest buffer allowed, in any strategy.
  expect(chunkJacobianBytes).toBeLessThanOrEqual(given.maxBufferBytes ?? Number.POSITIVE_INFINITY);
  expect(chunkJacobianBytes).toBe(chunkPoints * nParams * bytesPerElement);
  expect(thresholdBytes).toBe(Math.floor(thresholdOf(given).thresholdBytes / plan.workers));

  if (strategy === 'out_of_core') {
    // What stays resident is off the chunks' budget.
    expect(chunkJacobianBytes * safetyFactor + resident).toBeLessThanOrEqual(thresholdBytes);
    // With the decision's own overhead, a chunk never holds more than the decision allows.
    if (given.safetyFactor === undefined) {
      expect(chunkPoints).toBeLessThanOrEqual(plan.decision.maxInMemoryPoints);
    }
  } else if (strategy === 'hybrid_streaming') {
    expect(chunkJacobianBytes).toBeLessThanOrEqual(thresholdBytes / 2);
  } else {
    // standard: the whole fit's peak fits the per-worker threshold, so any block of it does.
    expect(chunkJacobianBytes * overhead).toBeLessThanOrEqual(
      plan.decision.thresholdGb * GIB * (1 + 1e-12),
    );
  }
  if (strategy !== 'standard') {
    const max = given.maxChunkPoints ?? Math.max(DEFAULT_MAX[strategy], given.minChunkPoints ?? 0);
    expect(chunkPoints).toBeLessThanOrEqual(max);
    if (chunkCount > 1) expect(chunkPoints % (given.alignTo ?? 1)).toBe(0);
  }
}

/** A RangeError is only right where the rules leave no size. */
function checkRefusal(nPoints: number, nParams: number, given: PlanOptions, error: unknown): void {
  expect(error).toBeInstanceOf(RangeError);
  const message = (error as Error).message;
  const { minChunkPoints: min, maxChunkPoints: max } = given;
  const alignTo = given.alignTo ?? 1;
  if (message.startsWith('Expected `maxChunkPoints` to be at least `minChunkPoints`')) {
    expect(max ?? 0).toBeLessThan(min ?? 0);
    return;
  }
  if (message.startsWith('Expected `maxChunkPoints` to be at least `alignTo`')) {
    expect(max ?? 500_000).toBeLessThan(alignTo);
    return;
  }
  const bytesPerElement = given.bytesPerElement ?? 8;
  const cap = capOf(given);
  if (message.startsWith('Not even one row')) {
    expect(nParams).toBeGreaterThan(cap);
    return;
  }
  expect(message).toMatch(/^Not even (one point fits|[\d,]+ points \(alignTo\) fit): /);
  const workers = given.workers as number;
  const threshold = thresholdOf(given);
  const thresholdBytes = Math.floor(threshold.thresholdBytes / workers);
  const { strategy } = decideNlsqStrategy(nPoints, nParams, threshold.thresholdGb / workers, {
    bytesPerElement,
    jacobianOverhead: given.jacobianOverhead ?? 6.5,
  });
  expect(strategy).not.toBe('standard');
  const outOfCore = strategy === 'out_of_core';
  const factor = outOfCore ? (given.safetyFactor ?? given.jacobianOverhead ?? 6.5) : 2;
  const resident = outOfCore ? nPoints * (given.residentBytesPerPoint ?? 8) : 0;
  const tooBig = alignTo * nParams * bytesPerElement * factor > thresholdBytes - resident;
  const tooLong = Math.floor(cap / nParams) < alignTo;
  expect(tooBig || tooLong).toBe(true);
}

describe('every plan', () => {
  it('keeps chunks within the per-worker budget, the typed-array cap and nPoints', () => {
    captureWarnings();
    fc.assert(
      fc.property(sizes, options, ({ nPoints, nParams }, given) => {
        const planOptions = { ...given, env: {} };
        let plan: FitPlan;
        try {
          plan = planNlsqFitSync(nPoints, nParams, planOptions);
        } catch (error) {
          checkRefusal(nPoints, nParams, planOptions, error);
          return;
        }
        check(nPoints, nParams, planOptions, plan);
      }),
      { numRuns: 3000 },
    );
  });

  it('takes the largest aligned chunk that fits, out of core, with default bounds', () => {
    captureWarnings();
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4096 }),
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 1, max: 500 }),
        (mib, nParams, alignTo) => {
          const given = { totalMemoryBytes: mib * 1024 ** 2, env: {}, alignTo };
          let plan: FitPlan;
          try {
            plan = planNlsqFitSync(2_000_000_000, nParams, given);
          } catch (error) {
            checkRefusal(2_000_000_000, nParams, { ...given, workers: 1 }, error);
            return;
          }
          if (plan.decision.strategy !== 'out_of_core') return;
          const next = plan.chunkPoints + alignTo;
          const fitsNext = next * nParams * 8 * 5 <= plan.thresholdBytes;
          expect(fitsNext && next <= 500_000).toBe(false);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
