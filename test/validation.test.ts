import { describe, expect, it } from 'vitest';
import {
  decideNlsqStrategy,
  detectMemory,
  detectMemorySync,
  detectTotalSystemMemory,
  estimatePeakMemoryGb,
  getAdaptiveMemoryThreshold,
  getAdaptiveMemoryThresholdSync,
  planNlsqFitSync,
  selectNlsqStrategy,
  selectNlsqStrategySync,
} from '../src/index.js';

const notNumbers: [string, unknown][] = [
  ['a string', '5'],
  ['a bigint', 5n],
  ['a boolean', true],
  ['null', null],
  ['an object', {}],
  ['undefined', undefined],
];
const badCounts: [string, number][] = [
  ['negative', -1],
  ['fractional', 1.5],
  ['NaN', Number.NaN],
  ['infinite', Number.POSITIVE_INFINITY],
];
const tooLarge: number[] = [2 ** 53, 1e30, Number.MAX_VALUE];

type Call = (nPoints: unknown, nParams: unknown) => unknown;
const counted: [string, Call][] = [
  ['estimatePeakMemoryGb', (n, p) => estimatePeakMemoryGb(n as number, p as number)],
  ['decideNlsqStrategy', (n, p) => decideNlsqStrategy(n as number, p as number, 16)],
  [
    'selectNlsqStrategySync',
    (n, p) => selectNlsqStrategySync(n as number, p as number, { totalMemoryBytes: 1e9 }),
  ],
  [
    'selectNlsqStrategy',
    (n, p) => selectNlsqStrategy(n as number, p as number, { totalMemoryBytes: 1e9 }),
  ],
];

async function thrown(call: () => unknown): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe.each(counted)('%s', (_, call) => {
  it.each(notNumbers)('rejects %s as nPoints or nParams with a TypeError', async (_kind, value) => {
    for (const [name, error] of [
      ['nPoints', await thrown(() => call(value, 3))],
      ['nParams', await thrown(() => call(3, value))],
    ] as const) {
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(
        new RegExp(`^Expected \`${name}\` to be a non-negative integer, got `),
      );
    }
  });

  it.each(badCounts)('rejects a %s count with a RangeError naming it', async (_kind, value) => {
    const error = await thrown(() => call(value, 3));
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toBe(
      `Expected \`nPoints\` to be a non-negative integer, got ${String(value)}`,
    );
  });

  it.each(tooLarge)('calls %d too large, not "not an integer"', async (value) => {
    const error = await thrown(() => call(3, value));
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toBe(
      `Expected \`nParams\` to be at most Number.MAX_SAFE_INTEGER, got ${String(value)}`,
    );
  });

  it('accepts Number.MAX_SAFE_INTEGER points', async () => {
    await expect(thrown(() => call(Number.MAX_SAFE_INTEGER, 0))).resolves.toBeUndefined();
  });
});

describe('messages', () => {
  it('show the value received', () => {
    expect(() => estimatePeakMemoryGb(-1, 3)).toThrow(
      'Expected `nPoints` to be a non-negative integer, got -1',
    );
    expect(() => estimatePeakMemoryGb('abc' as never, 3)).toThrow("got 'abc'");
    expect(() => estimatePeakMemoryGb(10n as never, 3)).toThrow('got 10n');
    expect(() => estimatePeakMemoryGb(1, null as never)).toThrow(
      'Expected `nParams` to be a non-negative integer, got null',
    );
  });
});

describe('sizes and budgets', () => {
  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])(
    'reject bytesPerElement and jacobianOverhead of %d',
    (value) => {
      expect(() => estimatePeakMemoryGb(1, 1, value)).toThrow(RangeError);
      expect(() => estimatePeakMemoryGb(1, 1, 8, value)).toThrow(
        /`jacobianOverhead` to be a finite number > 0/,
      );
      expect(() => decideNlsqStrategy(1, 1, 1, { bytesPerElement: value })).toThrow(
        /`bytesPerElement`/,
      );
      expect(() =>
        selectNlsqStrategySync(1, 1, { totalMemoryBytes: 1e9, jacobianOverhead: value }),
      ).toThrow(RangeError);
    },
  );

  it('reject a threshold or a multiplier so large that no figure of bytes is exact', () => {
    expect(() => decideNlsqStrategy(1e6, 10, 1e300)).toThrow(
      new RangeError('Expected `thresholdGb` to be at most 8388608 (2 ** 53 bytes), got 1e+300'),
    );
    expect(decideNlsqStrategy(1e6, 10, 8388608).strategy).toBe('standard');
    for (const call of [
      () => estimatePeakMemoryGb(1e6, 10, 8, 1e308),
      () => decideNlsqStrategy(1e6, 10, 4, { jacobianOverhead: 1e300 }),
      () => planNlsqFitSync(1e6, 10, { totalMemoryBytes: 2 ** 30, jacobianOverhead: 2e6 }),
      () => planNlsqFitSync(1e6, 10, { totalMemoryBytes: 2 ** 30, safetyFactor: 2e6 }),
    ]) {
      expect(call).toThrow(/to be a number above 0 up to 1000000, got [\d.e+]+$/);
    }
    expect(estimatePeakMemoryGb(1, 1, 8, 1e6)).toBeCloseTo((8 * 1e6) / 2 ** 30, 12);
  });

  it('read a threshold of -0 as 0: nothing prints as -0.00', () => {
    const decision = decideNlsqStrategy(0, 0, -0);
    expect(Object.is(decision.thresholdGb, 0)).toBe(true);
    expect(decision.reason).toBe('Memory fits: 0.00 GB <= 0.00 GB threshold');
  });

  it('reject a negative, NaN or infinite threshold, and one that is not a number', () => {
    for (const value of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => decideNlsqStrategy(1, 1, value)).toThrow(RangeError);
    }
    expect(() => decideNlsqStrategy(1, 1, '16' as never)).toThrow(
      "Expected `thresholdGb` to be a finite number >= 0, got '16'",
    );
    expect(() => decideNlsqStrategy(1, 1, 1, 'x' as never)).toThrow(
      "Expected `options` to be an object, got 'x'",
    );
    expect(() => decideNlsqStrategy(1, 1, 1, [] as never)).toThrow(TypeError);
  });

  it.each([0, -5, 1.5, 2 ** 30 + 0.5, Number.NaN, Number.POSITIVE_INFINITY])(
    'reject a totalMemoryBytes budget of %d: it must be a whole, positive number',
    async (value) => {
      expect(() => getAdaptiveMemoryThresholdSync({ totalMemoryBytes: value })).toThrow(
        `Expected \`totalMemoryBytes\` to be a positive integer, got ${value}`,
      );
      await expect(getAdaptiveMemoryThreshold({ totalMemoryBytes: value })).rejects.toThrow(
        RangeError,
      );
    },
  );

  it.each([2 ** 53, 1e30])('reject a totalMemoryBytes budget of %d as unsafe', (value) => {
    expect(() => getAdaptiveMemoryThresholdSync({ totalMemoryBytes: value })).toThrow(
      `Expected \`totalMemoryBytes\` to be at most Number.MAX_SAFE_INTEGER, got ${value}`,
    );
    expect(
      getAdaptiveMemoryThresholdSync({ totalMemoryBytes: Number.MAX_SAFE_INTEGER }).thresholdBytes,
    ).toBe(Math.floor(Number.MAX_SAFE_INTEGER * 0.75));
  });

  it('reject a budget that is not a number with a TypeError', () => {
    expect(() => getAdaptiveMemoryThresholdSync({ totalMemoryBytes: '8e9' as never })).toThrow(
      TypeError,
    );
  });
});

describe('the fraction argument', () => {
  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])(
    'rejects %d with a RangeError',
    async (value) => {
      expect(() => getAdaptiveMemoryThresholdSync(value)).toThrow(
        'Expected `memoryFraction` to be a finite number',
      );
      await expect(getAdaptiveMemoryThreshold({ memoryFraction: value })).rejects.toThrow(
        RangeError,
      );
      await expect(selectNlsqStrategy(1, 1, value)).rejects.toThrow(RangeError);
    },
  );

  it.each([['0.5'], [true], [[0.5]], [5n], [() => 0.5]])(
    'rejects %o with a TypeError',
    async (value) => {
      expect(() => getAdaptiveMemoryThresholdSync(value as never)).toThrow(TypeError);
      await expect(getAdaptiveMemoryThreshold(value as never)).rejects.toThrow(TypeError);
      expect(() => selectNlsqStrategySync(1, 1, value as never)).toThrow(/`memoryFraction`/);
    },
  );

  it('rejects a fraction option that is not a number', () => {
    expect(() => getAdaptiveMemoryThresholdSync({ memoryFraction: '0.5' as never })).toThrow(
      "Expected `memoryFraction` to be a finite number, got '0.5'",
    );
  });

  it('rejects an unknown basis', () => {
    expect(() => getAdaptiveMemoryThresholdSync({ basis: 'free' as never })).toThrow(
      "Expected `basis` to be 'total' or 'available', got 'free'",
    );
    expect(() => getAdaptiveMemoryThresholdSync({ basis: 1 as never })).toThrow(TypeError);
  });
});

describe('detection options', () => {
  it('reject a bad fsRoot, env, timeoutMs or ttlMs', async () => {
    expect(() => detectMemorySync({ fsRoot: '' })).toThrow(
      'Expected `fsRoot` to be a non-empty string, got',
    );
    expect(() => detectMemorySync({ env: 'x' as never })).toThrow(
      "Expected `env` to be an object, got 'x'",
    );
    expect(() => detectMemorySync({ ttlMs: -1 })).toThrow(
      'Expected `ttlMs` to be a finite number >= 0, got -1',
    );
    await expect(detectMemory({ timeoutMs: 0 })).rejects.toThrow(
      'Expected `timeoutMs` to be a finite number > 0, got 0',
    );
    await expect(detectTotalSystemMemory({ timeoutMs: Number.NaN })).rejects.toThrow(RangeError);
  });
});
