import { describe, expect, it, vi } from 'vitest';
import {
  decideNlsqStrategy,
  getAdaptiveMemoryThreshold,
  getAdaptiveMemoryThresholdSync,
  NLSQStrategy,
} from '../src/index.js';
import { GIB, makeTree, meminfo, probesWith } from './helpers.js';

describe('thresholdBytes', () => {
  it('is an integer, the floor of thresholdGb in bytes', () => {
    vi.stubEnv('NLSQ_MEMORY_FRACTION', undefined);
    // 0.75 × 3370141833 is 2527606374.75.
    const { thresholdBytes, thresholdGb } = getAdaptiveMemoryThresholdSync({
      totalMemoryBytes: 3_370_141_833,
    });
    expect(thresholdBytes).toBe(2_527_606_374);
    expect(thresholdBytes).toBe(Math.floor(thresholdGb * GIB));
    for (let bytes = 1; bytes < 2 ** 40; bytes = bytes * 3 + 7) {
      for (const memoryFraction of [0.1, 0.33, 0.5, 0.75, 0.9]) {
        const result = getAdaptiveMemoryThresholdSync({ totalMemoryBytes: bytes, memoryFraction });
        expect(Number.isSafeInteger(result.thresholdBytes)).toBe(true);
      }
    }
    vi.unstubAllEnvs();
  });

  it('is an integer for a detected total too', async () => {
    const fsRoot = makeTree({ 'proc/meminfo': meminfo(8 * GIB, 3 * GIB) });
    const { thresholdBytes } = await getAdaptiveMemoryThreshold({
      fsRoot,
      env: {},
      probes: probesWith(7_777_777_777),
      memoryFraction: 0.33,
    });
    expect(thresholdBytes).toBe(Math.floor((7_777_777_777 / GIB) * 0.33 * GIB));
    expect(Number.isInteger(thresholdBytes)).toBe(true);
  });
});

describe('a known budget', () => {
  it("reports basis 'total', whatever basis was asked for: it is used as a total", async () => {
    const budget = { totalMemoryBytes: 8 * GIB, memoryFraction: 0.5 };
    for (const basis of ['total', 'available', null] as const) {
      const { info, thresholdGb } = await getAdaptiveMemoryThreshold({ ...budget, basis });
      expect(info).toMatchObject({ basis: 'total', detectionMethod: 'override', totalMemoryGb: 8 });
      expect(thresholdGb).toBe(4);
    }
  });
});

describe('NLSQStrategy', () => {
  it('is frozen at run time, as its type is read-only', () => {
    expect(Object.isFrozen(NLSQStrategy)).toBe(true);
    expect(() => {
      (NLSQStrategy as { STANDARD: string }).STANDARD = 'x';
    }).toThrow(TypeError);
    expect(NLSQStrategy.STANDARD).toBe('standard');
  });
});

describe('decisions', () => {
  it('print the largest threshold in plain digits, as the original', () => {
    expect(decideNlsqStrategy(10, 2, 8388608).reason).toBe(
      'Memory fits: 0.00 GB < 8388608.00 GB threshold',
    );
  });

  it('round a half to even in the reason, as the threshold does', () => {
    expect(decideNlsqStrategy(1, 1, 1.125).reason).toBe('Memory fits: 0.00 GB < 1.12 GB threshold');
  });
});
