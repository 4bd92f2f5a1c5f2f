// Which learned overhead a plan uses where learning moves the strategy: the one learned for the
// strategy the plan ends on; where two strategies' overheads decide each other's, the larger.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planNlsqFitSync } from '../src/index.js';
import { settleOverhead } from '../src/policy/calibration.js';
import { decide, type NLSQStrategy } from '../src/policy/strategy.js';
import { GIB, makeTree } from './helpers.js';

/** A store whose entries of model `m` hold these observations per strategy. */
function storeWith(observations: Partial<Record<NLSQStrategy, number[]>>): string {
  const store = join(makeTree({}), 'calibration.json');
  const entries = Object.entries(observations).map(([strategy, runs], at) => ({
    key: 'm',
    strategy,
    bytesPerElement: 8,
    observations: runs,
    updatedAt: 1_700_000_000_000 + at,
  }));
  writeFileSync(store, JSON.stringify({ version: 1, entries }));
  return store;
}

/** 2,000,000 × 53 in 4 GiB (a 3 GiB threshold): out of core at 6.5, in memory below 7.6. */
const planWith = (store: string) =>
  planNlsqFitSync(2_000_000, 53, {
    totalMemoryBytes: 4 * GIB,
    env: {},
    calibration: { key: 'm', store },
  });

const peakGb = (overhead: number) => (2_000_000 * 53 * 8 * overhead) / GIB;

describe('the overhead of a calibrated plan', () => {
  it("is not one strategy's applied to another: where each decides the other, the larger", () => {
    // out_of_core learned 2.2, which decides standard; standard learned 9.9, which decides out_of_core.
    const plan = planWith(storeWith({ out_of_core: [2, 2, 2], standard: [9, 9, 9] }));
    expect(plan.decision.strategy).toBe('out_of_core');
    expect(plan.decision.peakMemoryGb).toBeCloseTo(peakGb(9.9), 9);
    expect(plan.reason).toMatch(/Jacobian × 9\.9 fits /);
    expect(plan.reason).toMatch(
      /\(overhead 9\.90 learned from 3 standard runs, the larger of two that decide each other's strategy: out_of_core's is 2\.20 from 3 runs\)\.$/,
    );
  });

  it('is the one learned for the strategy the plan ends on, where learning moved it', () => {
    // out_of_core learned 2.2, which decides standard; standard learned 3.3, which keeps it.
    const plan = planWith(storeWith({ out_of_core: [2, 2, 2], standard: [3, 3, 3] }));
    expect(plan.decision.strategy).toBe('standard');
    expect(plan.decision.peakMemoryGb).toBeCloseTo(peakGb(3.3), 9);
    expect(plan.reason).toMatch(/\(overhead 3\.30 learned from 3 runs\)\.$/);
  });

  it('is the default where the strategy learning moved to has too few runs, and says so', () => {
    // out_of_core learned 2.2, which decides standard; standard's 6.5 (1 run) decides out_of_core.
    const plan = planWith(storeWith({ out_of_core: [2, 2, 2], standard: [2] }));
    expect(plan.decision.strategy).toBe('out_of_core');
    expect(plan.decision.peakMemoryGb).toBeCloseTo(peakGb(6.5), 9);
    expect(plan.reason).toMatch(
      /\(overhead 6\.5, the default \(standard: 1 of 3 runs recorded\), the larger of two that decide each other's strategy: out_of_core's is 2\.20 from 3 runs\)\.$/,
    );
  });

  it("is the default strategy's own where it holds: learned, or the default below 3 runs", () => {
    const both = planWith(storeWith({ out_of_core: [9, 9, 9], standard: [2, 2, 2] }));
    expect(both.decision.strategy).toBe('out_of_core');
    expect(both.reason).toMatch(/\(overhead 9\.90 learned from 3 runs\)\.$/);
    const few = planWith(storeWith({ out_of_core: [2, 2], standard: [2, 2, 2] }));
    expect(few.decision.strategy).toBe('out_of_core');
    expect(few.reason).toMatch(/\(overhead 6\.5: 2 of 3 runs recorded to learn it\)\.$/);
  });
});

describe('settling the overhead', () => {
  const learned = (runs: Partial<Record<NLSQStrategy, number>>) => (strategy: NLSQStrategy) => ({
    observations: 3,
    overhead: runs[strategy] ?? null,
  });
  /** Decisions for 2,000,000 × 53 against 3 GiB, counted. */
  function counted() {
    const made: number[] = [];
    const decideWith = (jacobianOverhead: number) => {
      made.push(jacobianOverhead);
      return decide(2_000_000, 53, 3, { bytesPerElement: 8, jacobianOverhead });
    };
    return { made, decideWith };
  }

  it.each([
    ['the default holds', {}, [6.5], 6.5],
    ['what was learned keeps the strategy', { out_of_core: 9.9 }, [6.5, 9.9], 9.9],
    [
      'what was learned moves it, and the next holds',
      { out_of_core: 2.2, standard: 3.3 },
      [6.5, 2.2, 3.3],
      3.3,
    ],
    ['two decide each other', { out_of_core: 2.2, standard: 9.9 }, [6.5, 2.2, 9.9], 9.9],
  ])('decides no more often than it must where %s', (_, runs, made, overhead) => {
    const { made: seen, decideWith } = counted();
    const settled = settleOverhead(decideWith, learned(runs), 6.5);
    expect(seen).toEqual(made);
    expect(settled.overhead).toBe(overhead);
    expect(settled.decision).toEqual(
      decide(2_000_000, 53, 3, { bytesPerElement: 8, jacobianOverhead: overhead }),
    );
  });
});

describe('settling the overhead where the first strategy holds the larger', () => {
  const decideWith = (jacobianOverhead: number) =>
    decide(2_000_000, 53, 3, { bytesPerElement: 8, jacobianOverhead });

  it.each([
    [
      { standard: 9.9, out_of_core: 2.2 },
      "overhead 9.90 learned from 3 standard runs, the larger of two that decide each other's strategy: out_of_core's is 2.20 from 3 runs",
    ],
    [
      { standard: 9.9 },
      "overhead 9.90 learned from 3 standard runs, the larger of two that decide each other's strategy: out_of_core's is 2, the default",
    ],
  ])('keeps it, on the strategy it decides: %o', (runs, note) => {
    // A default of 2 decides standard; standard's 9.9 decides out_of_core, whose overhead decides standard.
    const learnedFor = (strategy: NLSQStrategy) => ({
      observations: 3,
      overhead: (runs as Partial<Record<NLSQStrategy, number>>)[strategy] ?? null,
    });
    const settled = settleOverhead(decideWith, learnedFor, 2);
    expect(settled).toEqual({ decision: decideWith(9.9), overhead: 9.9, note });
    expect(settled.decision.strategy).toBe('out_of_core');
  });
});
