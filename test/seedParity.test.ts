import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { selectNlsqStrategySync } from '../src/index.js';

interface SeedCase {
  totalBytes: number;
  fraction: number;
  nPoints: number;
  nParams: number;
  strategy: string;
  thresholdGb: number;
  indexMemoryGb: number;
  peakMemoryGb: number;
  reason: string;
}

// Written by test/fixtures/seed-decisions.py from the Python original's arithmetic and wording.
const cases = JSON.parse(
  readFileSync(new URL('./fixtures/seed-decisions.json', import.meta.url), 'utf8'),
) as SeedCase[];

function close(actual: number, expected: number): boolean {
  return actual === expected || Math.abs(actual - expected) <= 1e-12 * Math.abs(expected);
}

describe('parity with the Python original', () => {
  it(`decides all ${cases.length} recorded cases as the original did`, () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const mismatches = cases.filter((seed) => {
      const decision = selectNlsqStrategySync(seed.nPoints, seed.nParams, {
        totalMemoryBytes: seed.totalBytes,
        memoryFraction: seed.fraction,
      });
      return !(
        decision.strategy === seed.strategy &&
        close(decision.thresholdGb, seed.thresholdGb) &&
        close(decision.indexMemoryGb, seed.indexMemoryGb) &&
        close(decision.peakMemoryGb, seed.peakMemoryGb) &&
        decision.reason === seed.reason
      );
    });
    expect(cases.length).toBeGreaterThan(1000);
    expect(mismatches).toEqual([]);
  });
});
