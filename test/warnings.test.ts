import { afterEach, describe, expect, it, vi } from 'vitest';
import { getAdaptiveMemoryThresholdSync, MEMORY_FRACTION_ENV_VAR } from '../src/index.js';
import { captureWarnings, GIB } from './helpers.js';

const budget = { totalMemoryBytes: GIB };

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('warnings', () => {
  it('are emitted once per code, however many distinct values trigger them', () => {
    const warnings = captureWarnings();
    for (let index = 0; index < 1000; index++) {
      getAdaptiveMemoryThresholdSync({ ...budget, memoryFraction: 1 + index / 1000 });
    }
    expect(warnings).toEqual([
      {
        code: 'NLSQ_MEMORY_FRACTION_CLAMPED',
        message: 'Memory fraction 1 from `memoryFraction` clamped to [0.1, 0.9]: using 0.9',
      },
    ]);
  });

  it('of different codes are each emitted once', () => {
    const warnings = captureWarnings();
    for (const text of ['abc', 'nan', '0.6abc']) {
      vi.stubEnv(MEMORY_FRACTION_ENV_VAR, text);
      getAdaptiveMemoryThresholdSync(budget);
    }
    for (const fraction of [0.01, 0.02, 5]) {
      getAdaptiveMemoryThresholdSync({ ...budget, memoryFraction: fraction });
    }
    expect(warnings.map((warning) => warning.code)).toEqual([
      'NLSQ_MEMORY_FRACTION_INVALID',
      'NLSQ_MEMORY_FRACTION_CLAMPED',
    ]);
  });
});
