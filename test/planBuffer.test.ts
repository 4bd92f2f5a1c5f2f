// maxBufferBytes: the largest single buffer a target allows (a WebGPU binding, wasm32's 4 GiB)
// caps every chunk's Jacobian, with the alignment and RangeError rules of the typed-array cap.
import { describe, expect, it } from 'vitest';
import { type PlanOptions, planNlsqFitSync } from '../src/index.js';
import { captureWarnings, GIB, MIB } from './helpers.js';

const budget = (totalBytes: number, more: PlanOptions = {}): PlanOptions => ({
  totalMemoryBytes: totalBytes,
  env: {},
  ...more,
});

interface Row {
  name: string;
  nPoints: number;
  nParams: number;
  options: PlanOptions;
  strategy: string;
  chunkPoints: number;
  reason: string;
}

const WEBGPU = 128 * MIB;

const rows: Row[] = [
  {
    name: 'standard: blocks of the rows one WebGPU binding holds',
    nPoints: 1_000_000,
    nParams: 53,
    options: budget(64 * GIB, { maxBufferBytes: WEBGPU }),
    strategy: 'standard',
    chunkPoints: Math.floor(WEBGPU / 8 / 53),
    reason:
      'The full Jacobian (53,000,000 elements) exceeds the largest buffer allowed (maxBufferBytes 134217728) (16,777,216 elements): blocks of 316,551 rows.',
  },
  {
    name: 'standard: one block where it fits the buffer',
    nPoints: 100_000,
    nParams: 53,
    options: budget(64 * GIB, { maxBufferBytes: WEBGPU }),
    strategy: 'standard',
    chunkPoints: 100_000,
    reason:
      "All 100,000 points in one block: the fit's peak (262.83 MB) fits the budget (48.00 GB) and its Jacobian one buffer of maxBufferBytes.",
  },
  {
    name: 'out_of_core: the buffer, not the 500,000 maximum, caps the chunk',
    nPoints: 23_000_000,
    nParams: 53,
    options: budget(64 * GIB, { maxBufferBytes: WEBGPU }),
    strategy: 'out_of_core',
    chunkPoints: 316_551,
    reason:
      'Chunks of 316,551 points, the most rows one buffer of maxBufferBytes holds (16,777,216 elements).',
  },
  {
    name: 'out_of_core: aligned down under the buffer',
    nPoints: 23_000_000,
    nParams: 53,
    options: budget(64 * GIB, { maxBufferBytes: WEBGPU, alignTo: 23 }),
    strategy: 'out_of_core',
    chunkPoints: 316_549,
    reason:
      'Chunks of 316,549 points, the most rows one buffer of maxBufferBytes holds (16,777,216 elements), a multiple of 23.',
  },
  {
    name: 'out_of_core: float32 rows are half as wide: 633,102 fit, above the maximum',
    nPoints: 23_000_000,
    nParams: 53,
    options: budget(16 * GIB, { maxBufferBytes: WEBGPU, bytesPerElement: 4 }),
    strategy: 'out_of_core',
    chunkPoints: 500_000,
    reason:
      'Chunks of 500,000 points, the largest allowed (maxChunkPoints 500,000): their Jacobian × 6.5 fits the budget (12.00 GB) less what stays resident (175.48 MB).',
  },
  {
    name: 'hybrid_streaming: batches under the buffer',
    nPoints: 300_000_000,
    nParams: 10,
    options: budget(2 * GIB, { maxBufferBytes: MIB }),
    strategy: 'hybrid_streaming',
    chunkPoints: Math.floor(MIB / 8 / 10),
    reason:
      'Batches of 13,107 points, the most rows one buffer of maxBufferBytes holds (131,072 elements).',
  },
  {
    name: 'a buffer larger than a typed array changes nothing',
    nPoints: 23_000_000,
    nParams: 53,
    options: budget(64 * GIB, { maxBufferBytes: 2 ** 52, maxTypedArrayElements: 2 ** 24 }),
    strategy: 'out_of_core',
    chunkPoints: Math.floor(2 ** 24 / 53),
    reason: 'Chunks of 316,551 points, the most rows one typed array holds (16,777,216 elements).',
  },
];

describe('maxBufferBytes', () => {
  it.each(rows.map((row) => [row.name, row] as const))('%s', (_, row) => {
    captureWarnings();
    const plan = planNlsqFitSync(row.nPoints, row.nParams, row.options);
    expect(plan.decision.strategy).toBe(row.strategy);
    expect(plan.chunkPoints).toBe(row.chunkPoints);
    expect(plan.reason).toBe(row.reason);
    expect(plan.chunkJacobianBytes).toBeLessThanOrEqual(row.options.maxBufferBytes ?? 0);
    // The typed array's own figure stays what this Node.js allows.
    expect(plan.maxTypedArrayBytes).toBeGreaterThan(0);
  });

  it('is a RangeError when not even alignTo rows fit under it', () => {
    const plan = () =>
      planNlsqFitSync(
        23_000_000,
        53,
        budget(64 * GIB, { maxBufferBytes: 10 * 53 * 8, alignTo: 23 }),
      );
    expect(plan).toThrow(
      new RangeError(
        'Not even 23 points (alignTo) fit: 23 rows of 53 parameters exceed the largest buffer allowed (maxBufferBytes 4240) (530 elements)',
      ),
    );
  });

  it('is a RangeError when not even one row fits under it', () => {
    expect(() => planNlsqFitSync(1000, 53, budget(64 * GIB, { maxBufferBytes: 100 }))).toThrow(
      new RangeError(
        'Not even one row of 53 parameters fits in the largest buffer allowed (maxBufferBytes 100) (12 elements)',
      ),
    );
  });
});
