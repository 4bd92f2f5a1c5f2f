import { describe, expect, it } from 'vitest';
import { type PlanOptions, planNlsqFit, planNlsqFitSync } from '../src/index.js';
import { GIB, makeTree, probesWith } from './helpers.js';

const budget = { totalMemoryBytes: 64 * GIB, env: {} };

type Case = [string, unknown, typeof TypeError | typeof RangeError, string];

const integerOption = (name: string, or = ''): Case[] => [
  [name, 0, RangeError, `Expected \`${name}\` to be a positive integer${or}, got 0`],
  [name, -3, RangeError, `Expected \`${name}\` to be a positive integer${or}, got -3`],
  [name, 2.5, RangeError, `Expected \`${name}\` to be a positive integer${or}, got 2.5`],
  [name, Number.NaN, RangeError, `Expected \`${name}\` to be a positive integer${or}, got NaN`],
  [
    name,
    Number.POSITIVE_INFINITY,
    RangeError,
    `Expected \`${name}\` to be a positive integer${or}, got Infinity`,
  ],
  [
    name,
    2 ** 53,
    RangeError,
    `Expected \`${name}\` to be a positive integer${or}, got 9007199254740992`,
  ],
  [name, 4n, TypeError, `Expected \`${name}\` to be a positive integer${or}, got 4n`],
  [name, true, TypeError, `Expected \`${name}\` to be a positive integer${or}, got true`],
  [name, [4], TypeError, `Expected \`${name}\` to be a positive integer${or}, got [4]`],
];

const cases: Case[] = [
  ...integerOption('workers', " or 'auto'"),
  ['workers', 'all', TypeError, "Expected `workers` to be a positive integer or 'auto', got 'all'"],
  ['workers', '4', TypeError, "Expected `workers` to be a positive integer or 'auto', got '4'"],
  ...integerOption('alignTo'),
  ['alignTo', '23', TypeError, "Expected `alignTo` to be a positive integer, got '23'"],
  ...integerOption('minChunkPoints'),
  ...integerOption('maxChunkPoints'),
  ...integerOption('maxTypedArrayElements'),
  ['safetyFactor', 0, RangeError, 'Expected `safetyFactor` to be a finite number > 0, got 0'],
  ['safetyFactor', -1, RangeError, 'Expected `safetyFactor` to be a finite number > 0, got -1'],
  [
    'safetyFactor',
    Number.POSITIVE_INFINITY,
    RangeError,
    'Expected `safetyFactor` to be a finite number > 0, got Infinity',
  ],
  [
    'safetyFactor',
    Number.NaN,
    RangeError,
    'Expected `safetyFactor` to be a finite number > 0, got NaN',
  ],
  ['safetyFactor', '5', TypeError, "Expected `safetyFactor` to be a finite number > 0, got '5'"],
  ['bytesPerElement', 0, RangeError, 'Expected `bytesPerElement` to be a positive integer, got 0'],
  [
    'bytesPerElement',
    0.5,
    RangeError,
    'Expected `bytesPerElement` to be a positive integer, got 0.5',
  ],
  [
    'residentBytesPerPoint',
    -1,
    RangeError,
    'Expected `residentBytesPerPoint` to be a non-negative integer, got -1',
  ],
  [
    'residentBytesPerPoint',
    '8',
    TypeError,
    "Expected `residentBytesPerPoint` to be a non-negative integer, got '8'",
  ],
  ['maxBufferBytes', 0, RangeError, 'Expected `maxBufferBytes` to be a positive integer, got 0'],
  [
    'maxBufferBytes',
    1.5,
    RangeError,
    'Expected `maxBufferBytes` to be a positive integer, got 1.5',
  ],
  [
    'maxBufferBytes',
    2 ** 53,
    RangeError,
    'Expected `maxBufferBytes` to be at most Number.MAX_SAFE_INTEGER, got 9007199254740992',
  ],
  [
    'jacobianOverhead',
    -1,
    RangeError,
    'Expected `jacobianOverhead` to be a finite number > 0, got -1',
  ],
  [
    'memoryFraction',
    Number.NaN,
    RangeError,
    'Expected `memoryFraction` to be a finite number, got NaN',
  ],
  [
    'totalMemoryBytes',
    0,
    RangeError,
    'Expected `totalMemoryBytes` to be a positive integer, got 0',
  ],
  ['basis', 'free', RangeError, "Expected `basis` to be 'total' or 'available', got 'free'"],
];

/** Options whose detection, if it ever ran, would count a call to systeminformation. */
function detecting(): { options: PlanOptions; calls: { load: number } } {
  const probes = probesWith(8 * GIB, 8 * GIB);
  return {
    options: { fsRoot: makeTree({}), env: {}, probes, refresh: true },
    calls: probes.calls,
  };
}

describe('every option', () => {
  it.each(cases)('rejects %s: %o', async (name, value, ErrorType, message) => {
    const options = { ...budget, [name]: value } as PlanOptions;
    expect(() => planNlsqFitSync(10, 2, options)).toThrow(new ErrorType(message));
    const error = await planNlsqFit(10, 2, options).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(ErrorType);
    expect((error as Error).message).toBe(message);
  });

  it.each(cases.filter(([name]) => name !== 'totalMemoryBytes'))(
    'rejects %s: %o before any detection',
    async (name, value) => {
      const { options, calls } = detecting();
      await expect(planNlsqFit(10, 2, { ...options, [name]: value })).rejects.toThrow();
      expect(calls.load).toBe(0);
    },
  );

  it('detects when the options are good', async () => {
    const { options, calls } = detecting();
    const plan = await planNlsqFit(10, 2, { ...options, workers: 2 });
    expect(calls.load).toBe(1);
    expect(plan.thresholdBytes).toBe(3 * GIB);
  });
});

describe('combinations', () => {
  it('reject a maximum below the minimum', () => {
    expect(() =>
      planNlsqFitSync(10, 2, { ...budget, minChunkPoints: 2000, maxChunkPoints: 1000 }),
    ).toThrow(
      new RangeError('Expected `maxChunkPoints` to be at least `minChunkPoints` (2000), got 1000'),
    );
  });

  it('accept a maximum equal to the minimum', () => {
    const plan = planNlsqFitSync(23_000_000, 53, {
      ...budget,
      minChunkPoints: 4600,
      maxChunkPoints: 4600,
      alignTo: 23,
    });
    expect(plan.chunkPoints).toBe(4600);
  });

  it('reject a maximum below alignTo', () => {
    expect(() => planNlsqFitSync(10, 2, { ...budget, alignTo: 100, maxChunkPoints: 99 })).toThrow(
      new RangeError('Expected `maxChunkPoints` to be at least `alignTo` (100), got 99'),
    );
  });
});

describe('sizes and the options argument', () => {
  it.each([
    [-1, RangeError],
    [1.5, RangeError],
    ['10', TypeError],
    [null, TypeError],
  ] as const)('reject nPoints and nParams of %o', async (value, ErrorType) => {
    expect(() => planNlsqFitSync(value as never, 2, budget)).toThrow(ErrorType);
    expect(() => planNlsqFitSync(2, value as never, budget)).toThrow(
      /^Expected `nParams` to be a non-negative integer, got /,
    );
    await expect(planNlsqFit(value as never, 2, budget)).rejects.toThrow(
      /^Expected `nPoints` to be a non-negative integer, got /,
    );
  });

  it.each([
    ['0.5', "'0.5'"],
    [true, 'true'],
    [[0.5], '[0.5]'],
    [5n, '5n'],
    [() => 1, 'a function'],
  ])('reject options of %o', (value, shown) => {
    expect(() => planNlsqFitSync(10, 2, value as never)).toThrow(
      new TypeError(
        `Expected \`options\` to be a memory fraction, an options object or null, got ${shown}`,
      ),
    );
  });
});
