import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type FitPlan,
  type PlanOptions,
  planNlsqFit,
  planNlsqFitSync,
  selectNlsqStrategySync,
} from '../src/index.js';
import { captureWarnings, GIB, MIB } from './helpers.js';

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

/** A budget of `totalBytes` (a whole number of MiB, so that 75% of it is exact), no environment. */
const memory = (totalBytes: number, more: PlanOptions = {}): PlanOptions => ({
  totalMemoryBytes: totalBytes,
  env: {},
  ...more,
});

interface Row {
  name: string;
  nPoints: number;
  nParams: number;
  options: PlanOptions;
  strategy: FitPlan['decision']['strategy'];
  chunkPoints: number;
  reason: string;
}

const rows: Row[] = [
  {
    name: 'standard: everything in one block',
    nPoints: 1_000_000,
    nParams: 10,
    options: memory(8 * GIB),
    strategy: 'standard',
    chunkPoints: 1_000_000,
    reason:
      "All 1,000,000 points in one block: the fit's peak (495.91 MB) fits the budget (6.00 GB) and its Jacobian one typed array.",
  },
  {
    name: 'standard: alignTo does not split it',
    nPoints: 1_000_001,
    nParams: 10,
    options: memory(8 * GIB, { alignTo: 23 }),
    strategy: 'standard',
    chunkPoints: 1_000_001,
    reason:
      "All 1,000,001 points in one block: the fit's peak (495.91 MB) fits the budget (6.00 GB) and its Jacobian one typed array.",
  },
  {
    name: 'out_of_core: clamped to 500,000 on 64 GiB',
    nPoints: 23_000_000,
    nParams: 53,
    options: memory(64 * GIB),
    strategy: 'out_of_core',
    chunkPoints: 500_000,
    reason:
      'Chunks of 500,000 points, the largest allowed (maxChunkPoints 500,000): their Jacobian × 6.5 fits the budget (48.00 GB) less what stays resident (175.48 MB).',
  },
  {
    name: 'out_of_core: the maximum aligned down to 23',
    nPoints: 23_000_000,
    nParams: 53,
    options: memory(64 * GIB, { alignTo: 23 }),
    strategy: 'out_of_core',
    chunkPoints: 499_997,
    reason:
      'Chunks of 499,997 points, the largest allowed (maxChunkPoints 500,000), a multiple of 23: their Jacobian × 6.5 fits the budget (48.00 GB) less what stays resident (175.48 MB).',
  },
  {
    name: 'out_of_core: the budget less the index array, over a row × the overhead 6.5',
    nPoints: 23_000_000,
    nParams: 53,
    options: memory(512 * MIB),
    strategy: 'out_of_core',
    chunkPoints: Math.floor((384 * MIB - 23_000_000 * 8) / (53 * 8 * 6.5)),
    reason:
      'Chunks of 79,337 points, the most points whose Jacobian × 6.5 fits the budget (384.00 MB) less what stays resident (175.48 MB).',
  },
  {
    name: "out_of_core: homodyne's rule, floor(budget / (53 × 8 × 5)), when asked for",
    nPoints: 23_000_000,
    nParams: 53,
    options: memory(512 * MIB, { safetyFactor: 5, residentBytesPerPoint: 0 }),
    strategy: 'out_of_core',
    chunkPoints: Math.floor((384 * MIB) / (53 * 8 * 5)),
    reason:
      'Chunks of 189,930 points, the most points whose Jacobian × 5 fits the budget (384.00 MB).',
  },
  {
    name: 'out_of_core: aligned down to 23',
    nPoints: 23_000_000,
    nParams: 53,
    options: memory(512 * MIB, { alignTo: 23 }),
    strategy: 'out_of_core',
    chunkPoints: 79_327,
    reason:
      'Chunks of 79,327 points, the most points whose Jacobian × 6.5 fits the budget (384.00 MB) less what stays resident (175.48 MB), a multiple of 23.',
  },
  {
    name: 'out_of_core: a safety factor of 10 halves it',
    nPoints: 23_000_000,
    nParams: 53,
    options: memory(512 * MIB, { safetyFactor: 10 }),
    strategy: 'out_of_core',
    chunkPoints: 51_569,
    reason:
      'Chunks of 51,569 points, the most points whose Jacobian × 10 fits the budget (384.00 MB) less what stays resident (175.48 MB).',
  },
  {
    name: 'out_of_core: float32 doubles it',
    nPoints: 23_000_000,
    nParams: 53,
    options: memory(512 * MIB, { bytesPerElement: 4 }),
    strategy: 'out_of_core',
    chunkPoints: 158_674,
    reason:
      'Chunks of 158,674 points, the most points whose Jacobian × 6.5 fits the budget (384.00 MB) less what stays resident (175.48 MB).',
  },
  {
    name: 'out_of_core: never more than nPoints, however it aligns',
    nPoints: 150_000,
    nParams: 53,
    options: memory(512 * MIB, { alignTo: 23, safetyFactor: 5 }),
    strategy: 'out_of_core',
    chunkPoints: 150_000,
    reason:
      'All 150,000 points in one chunk, whose Jacobian × 5 fits the budget (384.00 MB) less what stays resident (1.14 MB).',
  },
  {
    name: 'out_of_core: a smaller maximum, aligned down',
    nPoints: 23_000_000,
    nParams: 53,
    options: memory(64 * GIB, { alignTo: 23, maxChunkPoints: 100_000 }),
    strategy: 'out_of_core',
    chunkPoints: 99_981,
    reason:
      'Chunks of 99,981 points, the largest allowed (maxChunkPoints 100,000), a multiple of 23: their Jacobian × 6.5 fits the budget (48.00 GB) less what stays resident (175.48 MB).',
  },
  {
    name: 'out_of_core: a minimum above the default maximum raises the maximum',
    nPoints: 23_000_000,
    nParams: 53,
    options: memory(64 * GIB, { minChunkPoints: 600_000 }),
    strategy: 'out_of_core',
    chunkPoints: 600_000,
    reason:
      'Chunks of 600,000 points, the largest allowed (maxChunkPoints 600,000): their Jacobian × 6.5 fits the budget (48.00 GB) less what stays resident (175.48 MB).',
  },
  {
    name: 'out_of_core: a maximum below the default minimum lowers the minimum',
    nPoints: 23_000_000,
    nParams: 53,
    options: memory(64 * GIB, { maxChunkPoints: 5_000 }),
    strategy: 'out_of_core',
    chunkPoints: 5_000,
    reason:
      'Chunks of 5,000 points, the largest allowed (maxChunkPoints 5,000): their Jacobian × 6.5 fits the budget (48.00 GB) less what stays resident (175.48 MB).',
  },
  {
    name: 'hybrid_streaming: clamped to 100,000',
    nPoints: 200_000_000,
    nParams: 10,
    options: memory(GIB),
    strategy: 'hybrid_streaming',
    chunkPoints: 100_000,
    reason:
      'Batches of 100,000 points, the largest allowed (maxChunkPoints 100,000): their Jacobian fits half the budget (768.00 MB).',
  },
  {
    name: "hybrid_streaming: NLSQ's rule, floor(budget / 2 / (53 × 8))",
    nPoints: 23_000_000,
    nParams: 53,
    options: memory(4 * MIB),
    strategy: 'hybrid_streaming',
    chunkPoints: Math.floor((3 * MIB) / 2 / (53 * 8)),
    reason:
      'Batches of 3,709 points, the most points whose Jacobian fits half the budget (3.00 MB).',
  },
  {
    name: "hybrid_streaming: NLSQ's rule, aligned down to 23",
    nPoints: 23_000_000,
    nParams: 53,
    options: memory(4 * MIB, { alignTo: 23 }),
    strategy: 'hybrid_streaming',
    chunkPoints: 3_703,
    reason:
      'Batches of 3,703 points, the most points whose Jacobian fits half the budget (3.00 MB), a multiple of 23.',
  },
  {
    name: 'hybrid_streaming: no parameters, no Jacobian',
    nPoints: 200_000_000,
    nParams: 0,
    options: memory(GIB),
    strategy: 'hybrid_streaming',
    chunkPoints: 100_000,
    reason:
      'Batches of 100,000 points, the largest allowed (maxChunkPoints 100,000): their Jacobian fits half the budget (768.00 MB).',
  },
  {
    name: 'no points: nothing to allocate',
    nPoints: 0,
    nParams: 53,
    options: memory(GIB),
    strategy: 'standard',
    chunkPoints: 0,
    reason: 'No points: nothing to allocate.',
  },
];

describe('the plan', () => {
  it.each(rows.map((row) => [row.name, row] as const))('%s', async (_, row) => {
    const { nPoints, nParams, options, strategy, chunkPoints, reason } = row;
    const plan = planNlsqFitSync(nPoints, nParams, options);
    expect(plan.decision.strategy).toBe(strategy);
    expect(plan.chunkPoints).toBe(chunkPoints);
    expect(plan.chunkCount).toBe(nPoints === 0 ? 0 : Math.ceil(nPoints / chunkPoints));
    expect(plan.chunkJacobianBytes).toBe(chunkPoints * nParams * (options.bytesPerElement ?? 8));
    expect(plan.reason).toBe(reason);
    expect(plan.workers).toBe(1);
    expect(await planNlsqFit(nPoints, nParams, options)).toEqual(plan);
  });

  it('keeps every chunk a multiple of alignTo, and within the budget', () => {
    for (const alignTo of [1, 2, 7, 23, 360, 9999]) {
      for (const total of [512 * MIB, GIB, 64 * GIB]) {
        const plan = planNlsqFitSync(23_000_000, 53, memory(total, { alignTo }));
        expect(plan.chunkPoints % alignTo, `${alignTo} of ${total}`).toBe(0);
        const resident = 23_000_000 * 8;
        expect(plan.chunkJacobianBytes * 6.5 + resident).toBeLessThanOrEqual(plan.thresholdBytes);
      }
    }
  });

  it('decides as selectNlsqStrategy does with one worker', () => {
    for (const [nPoints, nParams, total] of [
      [23_000_000, 53, 64 * GIB],
      [23_000_000, 9, 16 * GIB],
      [200_000_000, 10, GIB],
    ] as const) {
      const options = memory(total);
      expect(planNlsqFitSync(nPoints, nParams, options).decision).toEqual(
        selectNlsqStrategySync(nPoints, nParams, options),
      );
    }
  });

  it('takes a memory fraction as its third argument, and null as no options', () => {
    vi.stubEnv('NLSQ_MEMORY_FRACTION', undefined);
    const half = planNlsqFitSync(1000, 10, 0.5);
    expect(half.decision.thresholdGb).toBe(getThresholdGb(0.5));
    expect(planNlsqFitSync(1000, 10, null).decision.thresholdGb).toBe(getThresholdGb(0.75));
    expect(planNlsqFitSync(1000, 10).decision.thresholdGb).toBe(getThresholdGb(0.75));
  });

  it('reads null options as not given', () => {
    const nulls = {
      workers: null,
      alignTo: null,
      safetyFactor: null,
      minChunkPoints: null,
      maxChunkPoints: null,
      maxTypedArrayElements: null,
      memoryFraction: null,
      bytesPerElement: null,
    } as unknown as PlanOptions;
    expect(planNlsqFitSync(23_000_000, 53, { ...memory(512 * MIB), ...nulls })).toEqual(
      planNlsqFitSync(23_000_000, 53, memory(512 * MIB)),
    );
  });

  it('shows a multiplier rounded, as a learned one comes out of arithmetic', () => {
    const plan = planNlsqFitSync(1e8, 10, {
      totalMemoryBytes: 4 * GIB,
      jacobianOverhead: 58 * 1.1, // 63.800000000000004
    });
    expect(plan.reason).toContain('Jacobian × 63.8 fits');
  });

  it('is frozen', () => {
    const plan = planNlsqFitSync(23_000_000, 53, memory(64 * GIB));
    expect(Object.isFrozen(plan)).toBe(true);
    expect(Object.isFrozen(plan.decision)).toBe(true);
    expect(() => {
      (plan as { chunkPoints: number }).chunkPoints = 1;
    }).toThrow(TypeError);
  });
});

function getThresholdGb(fraction: number): number {
  return selectNlsqStrategySync(1, 1, fraction).thresholdGb;
}

describe('a budget too small for the minimum', () => {
  it('gives the size that fits, with a coded warning', () => {
    const warnings = captureWarnings();
    const plan = planNlsqFitSync(1_000_000, 53, memory(16 * MIB));
    expect(plan.decision.strategy).toBe('out_of_core');
    expect(plan.chunkPoints).toBe(Math.floor((12 * MIB - 1_000_000 * 8) / (53 * 8 * 6.5)));
    expect(plan.chunkPoints).toBe(1_662);
    expect(plan.chunkJacobianBytes * 6.5 + 8_000_000).toBeLessThanOrEqual(plan.thresholdBytes);
    expect(plan.reason).toBe(
      'Chunks of 1,662 points, below the minimum of 10,000: the most points whose Jacobian × 6.5 fits the budget (12.00 MB) less what stays resident (7.63 MB).',
    );
    expect(warnings).toEqual([
      {
        code: 'NLSQ_MEMORY_CHUNK_BELOW_MIN',
        message:
          'Chunks of 1,662 points, below minChunkPoints (10,000): the most points whose Jacobian × 6.5 fits the budget (12.00 MB) less what stays resident (7.63 MB)',
      },
    ]);
  });

  it('warns for streaming batches too, per worker', () => {
    const warnings = captureWarnings();
    const plan = planNlsqFitSync(23_000_000, 53, memory(2 * MIB, { workers: 2 }));
    expect(plan.decision.strategy).toBe('hybrid_streaming');
    expect(plan.chunkPoints).toBe(Math.floor((0.75 * MIB) / 2 / 424));
    expect(warnings.map((warning) => warning.code)).toEqual(['NLSQ_MEMORY_CHUNK_BELOW_MIN']);
    expect(warnings[0]?.message).toMatch(/half the budget per worker \(768\.00 KB\)$/);
  });

  it('warns once for the same plan', () => {
    const warnings = captureWarnings();
    planNlsqFitSync(1_000_000, 53, memory(24 * MIB, { alignTo: 3 }));
    planNlsqFitSync(1_000_000, 53, memory(24 * MIB, { alignTo: 3 }));
    expect(warnings).toHaveLength(1);
  });

  it('does not warn when the data set is simply small', () => {
    const warnings = captureWarnings();
    const plan = planNlsqFitSync(5_000, 53, memory(16 * MIB, { safetyFactor: 5 }));
    expect(plan.decision.strategy).toBe('out_of_core');
    expect(plan).toMatchObject({ chunkPoints: 5_000, chunkCount: 1 });
    expect(warnings).toEqual([]);
  });
});

describe('a budget too small for one chunk', () => {
  it('is a RangeError when not even one point fits', () => {
    const options = memory(MIB, { memoryFraction: 0.1, workers: 64 });
    const plan = () => planNlsqFitSync(200, 53, options);
    expect(plan).toThrow(RangeError);
    expect(plan).toThrow('Not even one point fits: its Jacobian (424 bytes) × 6.5 exceeds');
  });

  it('is a RangeError when not even alignTo points fit', () => {
    expect(() => planNlsqFitSync(1_000_000, 53, memory(16 * MIB, { alignTo: 10_000 }))).toThrow(
      new RangeError(
        'Not even 10,000 points (alignTo) fit: their Jacobian (4.04 MB) × 6.5 exceeds the budget (12.00 MB) less what stays resident (7.63 MB)',
      ),
    );
    expect(() => planNlsqFitSync(23_000_000, 53, memory(MIB, { alignTo: 1000 }))).toThrow(
      'Not even 1,000 points (alignTo) fit: their Jacobian (414.06 KB) exceeds 384.00 KB, half the budget (768.00 KB)',
    );
  });

  it('rejects, asynchronously', async () => {
    await expect(planNlsqFit(1_000_000, 53, memory(16 * MIB, { alignTo: 10_000 }))).rejects.toThrow(
      RangeError,
    );
  });

  it('is a RangeError when the default maximum is below alignTo', () => {
    expect(() => planNlsqFitSync(200_000_000, 10, memory(GIB, { alignTo: 150_000 }))).toThrow(
      new RangeError(
        '`alignTo` (150,000) is above the largest batch, 100,000 by default for hybrid_streaming: give a smaller `alignTo`, or a `maxChunkPoints` of at least 150,000',
      ),
    );
  });
});
