import { describe, expect, it } from 'vitest';
import { estimatePeakMemoryGb } from '../src/index.js';
import { GIB } from './helpers.js';

describe('estimatePeakMemoryGb', () => {
  it.each([
    [1e6, 10],
    [1e7, 53],
    [1e8, 53],
  ])('is n * p * 8 * 6.5 / 1024**3 for (%d, %d)', (nPoints, nParams) => {
    const expected = (nPoints * nParams * 8 * 6.5) / GIB;
    expect(Math.abs(estimatePeakMemoryGb(nPoints, nParams) - expected) / expected).toBeLessThan(
      1e-10,
    );
  });

  it('is exactly 0 without points or without parameters', () => {
    expect(estimatePeakMemoryGb(0, 10)).toBe(0);
    expect(estimatePeakMemoryGb(1e6, 0)).toBe(0);
  });

  it('scales linearly with the points', () => {
    expect(estimatePeakMemoryGb(1e7, 20)).toBeCloseTo(10 * estimatePeakMemoryGb(1e6, 20), 10);
  });

  it('doubles with twice the overhead and halves with float32', () => {
    const base = estimatePeakMemoryGb(1e6, 10);
    expect(estimatePeakMemoryGb(1e6, 10, 8, 13)).toBeCloseTo(2 * base, 12);
    expect(estimatePeakMemoryGb(1e6, 10, 4)).toBeCloseTo(base / 2, 12);
  });

  it('gives 256.67 GB for 1e8 points and 53 parameters, not the 12.8 GB of the original docstring', () => {
    expect(estimatePeakMemoryGb(100_000_000, 53).toFixed(2)).toBe('256.67');
  });
});
