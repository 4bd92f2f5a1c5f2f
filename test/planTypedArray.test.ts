import { constants } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { planNlsqFitSync } from '../src/index.js';
import { maxTypedArrayElements } from '../src/sources/typedArray.js';
import { GIB } from './helpers.js';

const NODE_20 = 2 ** 32; // buffer.constants.MAX_LENGTH on 64-bit Node.js 18 to 21: elements
const NODE_22 = Number.MAX_SAFE_INTEGER; // on 64-bit Node.js 22 and later: bytes
const NODE_22_32_BIT = 2 ** 31 - 1; // on a 32-bit build of Node.js 22 and later: bytes

describe('the largest typed array', () => {
  it.each<[string, number, number, number]>([
    ['Node.js 20, float64', NODE_20, 8, 2 ** 32],
    ['Node.js 20, uint8', NODE_20, 1, 2 ** 32],
    ['Node.js 20, float32', NODE_20, 4, 2 ** 32],
    ['Node.js 20, an element too wide for 2³² of them', NODE_20, 2 ** 22, 2 ** 31 - 1],
    ['Node.js 22, float64', NODE_22, 8, 2 ** 50 - 1],
    ['Node.js 22, uint8', NODE_22, 1, Number.MAX_SAFE_INTEGER],
    ['Node.js 22, half a byte per element', NODE_22, 0.5, Number.MAX_SAFE_INTEGER],
    ['Node.js 22 on 32 bits, float64', NODE_22_32_BIT, 8, 2 ** 28 - 1],
  ])('holds, on %s, this many elements', (_, maxLength, bytesPerElement, expected) => {
    expect(maxTypedArrayElements(bytesPerElement, maxLength)).toBe(expected);
  });

  it("reads this Node.js's buffer.constants.MAX_LENGTH", () => {
    expect(maxTypedArrayElements(8)).toBe(maxTypedArrayElements(8, constants.MAX_LENGTH));
    const major = Number(process.versions.node.split('.')[0]);
    if (process.arch === 'x64' || process.arch === 'arm64') {
      expect(maxTypedArrayElements(8)).toBe(major >= 22 ? 2 ** 50 - 1 : 2 ** 32);
    }
  });

  it('is exceeded by one more element: the constructor throws before allocating', () => {
    const cap = maxTypedArrayElements(Float64Array.BYTES_PER_ELEMENT);
    expect(Number.isSafeInteger(cap + 1)).toBe(true);
    // Over the limit, V8 throws before it asks for memory: no 32 GiB (or 8 PiB) allocation here,
    // and not "Array buffer allocation failed", which would mean it tried.
    const before = process.memoryUsage().arrayBuffers;
    expect(() => new Float64Array(cap + 1)).toThrow(RangeError);
    expect(() => new Float64Array(cap + 1)).toThrow(/^Invalid typed array length/);
    expect(process.memoryUsage().arrayBuffers).toBeLessThan(before + 2 ** 20);
  });

  it('is reported by every plan, in bytes', () => {
    const plan = planNlsqFitSync(10, 2, { totalMemoryBytes: GIB, env: {} });
    expect(plan.maxTypedArrayBytes).toBe(maxTypedArrayElements(8) * 8);
    const injected = planNlsqFitSync(10, 2, {
      totalMemoryBytes: GIB,
      env: {},
      bytesPerElement: 4,
      maxTypedArrayElements: 1000,
    });
    expect(injected.maxTypedArrayBytes).toBe(4000);
  });
});

describe('a standard fit larger than one typed array', () => {
  const budget = { totalMemoryBytes: 1024 * GIB, env: {} };

  it.each<[string, number, number, number, number, number]>([
    // name, nPoints, nParams, cap (elements), chunkPoints, chunkCount
    ['fits in one block under the cap', 4_000_000, 1000, 2 ** 32, 4_000_000, 1],
    ['exactly at the cap', 4_294_967, 1000, 4_294_967_000, 4_294_967, 1],
    ['splits above the Node.js 20 cap', 5_000_000, 1000, 2 ** 32, 4_294_967, 2],
    ['splits into whole rows', 1000, 7, 100, 14, 72],
    ['one row per block', 10, 50, 99, 1, 10],
  ])('%s', (_, nPoints, nParams, cap, chunkPoints, chunkCount) => {
    const plan = planNlsqFitSync(nPoints, nParams, { ...budget, maxTypedArrayElements: cap });
    expect(plan.decision.strategy).toBe('standard');
    expect(plan).toMatchObject({ chunkPoints, chunkCount });
    expect(plan.chunkPoints * nParams).toBeLessThanOrEqual(cap);
    expect(plan.chunkJacobianBytes).toBe(chunkPoints * nParams * 8);
    if (chunkCount > 1) {
      expect(plan.reason).toBe(
        `The full Jacobian (${(nPoints * nParams).toLocaleString('en-US')} elements) exceeds the largest typed array this Node.js allows (${cap.toLocaleString('en-US')} elements): blocks of ${chunkPoints.toLocaleString('en-US')} rows.`,
      );
    }
  });

  it('needs no alignment', () => {
    const plan = planNlsqFitSync(1000, 7, { ...budget, maxTypedArrayElements: 100, alignTo: 5 });
    expect(plan.chunkPoints).toBe(14);
  });

  it('is a RangeError when not one row fits', () => {
    expect(() => planNlsqFitSync(10, 1000, { ...budget, maxTypedArrayElements: 999 })).toThrow(
      new RangeError(
        'Not even one row of 1,000 parameters fits in the largest typed array this Node.js allows (999 elements)',
      ),
    );
  });
});

describe('chunks larger than one typed array', () => {
  it('are cut to whole rows, out of core', () => {
    const plan = planNlsqFitSync(23_000_000, 53, {
      totalMemoryBytes: 64 * GIB,
      env: {},
      maxTypedArrayElements: 53 * 12_345,
      minChunkPoints: 1000,
    });
    expect(plan.decision.strategy).toBe('out_of_core');
    expect(plan.chunkPoints).toBe(12_345);
    expect(plan.reason).toBe(
      'Chunks of 12,345 points, the most rows one typed array holds (654,285 elements).',
    );
  });

  it('are cut to whole rows and aligned, streaming', () => {
    const plan = planNlsqFitSync(200_000_000, 10, {
      totalMemoryBytes: GIB,
      env: {},
      maxTypedArrayElements: 10 * 5_000 + 9,
      alignTo: 23,
    });
    expect(plan.decision.strategy).toBe('hybrid_streaming');
    expect(plan.chunkPoints).toBe(4991);
    expect(plan.reason).toBe(
      'Batches of 4,991 points, the most rows one typed array holds (50,009 elements), a multiple of 23.',
    );
  });

  it('are a RangeError when not even alignTo rows fit', () => {
    expect(() =>
      planNlsqFitSync(200_000_000, 10, {
        totalMemoryBytes: GIB,
        env: {},
        maxTypedArrayElements: 100,
        alignTo: 23,
      }),
    ).toThrow(
      new RangeError(
        'Not even 23 points (alignTo) fit: 23 rows of 10 parameters exceed the largest typed array this Node.js allows (100 elements)',
      ),
    );
  });
});
