// Learning from a fit that uses what its plan budgeted: the index array an out-of-core plan keeps
// resident is off the chunks' budget, so it is off each observation too, and learning settles.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type FitPlan, planNlsqFitSync, readCalibration, recordFitPeak } from '../src/index.js';
import { GIB, makeTree } from './helpers.js';

const N_POINTS = 23_000_000;
const INDEX_BYTES = N_POINTS * 8;

describe('FitPlan.residentBytes', () => {
  it('is the index array out of core, and 0 where nothing stays resident beside the Jacobian', () => {
    const plan = (totalMemoryBytes: number, options = {}) =>
      planNlsqFitSync(N_POINTS, 53, { totalMemoryBytes, env: {}, ...options });
    expect(plan(GIB).decision.strategy).toBe('out_of_core');
    expect(plan(GIB).residentBytes).toBe(INDEX_BYTES);
    expect(plan(GIB, { residentBytesPerPoint: 4 }).residentBytes).toBe(N_POINTS * 4);
    expect(plan(GIB, { residentBytesPerPoint: 0 }).residentBytes).toBe(0);
    expect(plan(1024 * GIB).decision.strategy).toBe('standard');
    expect(plan(1024 * GIB).residentBytes).toBe(0);
    expect(plan(200 * 1024 ** 2).decision.strategy).toBe('hybrid_streaming');
    expect(plan(200 * 1024 ** 2).residentBytes).toBe(0);
  });
});

describe('learning from fits that use exactly what their plan budgeted', () => {
  it('settles at 6.5 × 1.1, and the chunks stay within 10% of the first', async () => {
    const store = join(makeTree({}), 'calibration.json');
    const key = 'exact';
    const plans: FitPlan[] = [];
    for (let run = 0; run < 20; run++) {
      const plan = planNlsqFitSync(N_POINTS, 53, {
        totalMemoryBytes: GIB,
        env: {},
        calibration: { key, store },
      });
      expect(plan.decision.strategy).toBe('out_of_core');
      plans.push(plan);
      // The fit: 6.5 × the chunk's Jacobian, and the index array the plan keeps resident.
      const baselineBytes = 100_000_000;
      const peakBytes = baselineBytes + INDEX_BYTES + Math.round(6.5 * plan.chunkJacobianBytes);
      await recordFitPeak(
        plan,
        { peakBytes, baselineBytes, source: 'sampled-rss', durationMs: 1 },
        { key, store },
      );
    }
    expect((await readCalibration(key, { store })).overhead).toBeCloseTo(7.15, 6);
    const [first] = plans;
    const learned = plans.slice(3).map((plan) => plan.chunkPoints);
    expect(new Set(learned).size).toBe(1);
    expect(learned[0]).toBeGreaterThan(0.9 * (first?.chunkPoints ?? 0));
    expect(learned[0]).toBeCloseTo(((first?.chunkPoints ?? 0) * 6.5) / 7.15, -1);
  });
});
