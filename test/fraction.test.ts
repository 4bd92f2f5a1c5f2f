import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_MEMORY_FRACTION,
  getAdaptiveMemoryThreshold,
  getAdaptiveMemoryThresholdSync,
  MAX_MEMORY_FRACTION,
  MEMORY_FRACTION_ENV_VAR,
  MIN_MEMORY_FRACTION,
  selectNlsqStrategy,
  selectNlsqStrategySync,
} from '../src/index.js';
import { captureWarnings, GIB } from './helpers.js';

const budget = { totalMemoryBytes: 64 * GIB };

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('the memory fraction', () => {
  it('has the original constants', () => {
    expect([DEFAULT_MEMORY_FRACTION, MIN_MEMORY_FRACTION, MAX_MEMORY_FRACTION]).toEqual([
      0.75, 0.1, 0.9,
    ]);
    expect(MEMORY_FRACTION_ENV_VAR).toBe('NLSQ_MEMORY_FRACTION');
  });

  it('defaults to 0.75: 48 GB of a 64 GiB machine', async () => {
    vi.stubEnv(MEMORY_FRACTION_ENV_VAR, undefined);
    const { thresholdGb, thresholdBytes, info } = await getAdaptiveMemoryThreshold(budget);
    expect(thresholdGb).toBe(48);
    expect(thresholdBytes).toBe(48 * GIB);
    expect(info).toEqual({
      totalMemoryGb: 64,
      memoryFraction: 0.75,
      source: 'default',
      detectionMethod: 'override',
      limitSource: null,
      basis: 'total',
    });
  });

  it('takes the environment when no argument is given', async () => {
    vi.stubEnv(MEMORY_FRACTION_ENV_VAR, '0.6');
    const { thresholdGb, info } = await getAdaptiveMemoryThreshold(budget);
    expect(info.source).toBe('env');
    expect(info.memoryFraction).toBe(0.6);
    expect(thresholdGb).toBeCloseTo(38.4, 12);
  });

  it('prefers the argument to the environment, as a number or an option', async () => {
    vi.stubEnv(MEMORY_FRACTION_ENV_VAR, '0.6');
    const { info } = await getAdaptiveMemoryThreshold({ ...budget, memoryFraction: 0.8 });
    expect(info).toMatchObject({ source: 'argument', memoryFraction: 0.8 });
    expect(getAdaptiveMemoryThresholdSync(0.8).info).toMatchObject({
      source: 'argument',
      memoryFraction: 0.8,
    });
  });

  it('reads the environment from the env option when given', () => {
    vi.stubEnv(MEMORY_FRACTION_ENV_VAR, '0.6');
    const { info } = getAdaptiveMemoryThresholdSync({
      ...budget,
      env: { [MEMORY_FRACTION_ENV_VAR]: '0.3' },
    });
    expect(info).toMatchObject({ source: 'env', memoryFraction: 0.3 });
  });

  it('reaches selectNlsqStrategy, which the original ignored', async () => {
    vi.stubEnv(MEMORY_FRACTION_ENV_VAR, '0.5');
    expect((await selectNlsqStrategy(1000, 5, budget)).thresholdGb).toBe(32);
    expect(selectNlsqStrategySync(1000, 5, budget).thresholdGb).toBe(32);
    expect(
      (await selectNlsqStrategy(1000, 5, { ...budget, memoryFraction: 0.25 })).thresholdGb,
    ).toBe(16);
  });

  it('accepts plain decimals with spaces around, a sign or an exponent', () => {
    for (const [text, value] of [
      [' 0.6 ', 0.6],
      ['.5', 0.5],
      ['+0.4', 0.4],
      ['1e-1', 0.1],
      ['0.70', 0.7],
    ] as const) {
      vi.stubEnv(MEMORY_FRACTION_ENV_VAR, text);
      expect(getAdaptiveMemoryThresholdSync(budget).info).toMatchObject({
        source: 'env',
        memoryFraction: value,
      });
    }
  });

  it.each([
    '',
    '   ',
    'nan',
    'NaN',
    'inf',
    'Infinity',
    '-inf',
    '1_0',
    '0.6abc',
    '0x1',
    'abc',
    '1e999',
    '0.5.5',
    '1,5',
  ])('warns NLSQ_MEMORY_FRACTION_INVALID once for %j and uses the default', async (text) => {
    const warnings = captureWarnings();
    vi.stubEnv(MEMORY_FRACTION_ENV_VAR, text);
    for (let call = 0; call < 3; call++) {
      const { thresholdGb, info } = await getAdaptiveMemoryThreshold(budget);
      expect(thresholdGb).toBe(48);
      expect(info).toMatchObject({ source: 'default', memoryFraction: 0.75 });
    }
    expect(warnings).toEqual([
      {
        code: 'NLSQ_MEMORY_FRACTION_INVALID',
        message: `Invalid NLSQ_MEMORY_FRACTION=${JSON.stringify(text)}, using default 0.75`,
      },
    ]);
  });

  it.each([
    [0.05, 0.1],
    [0.99, 0.9],
    [-2, 0.1],
    [0, 0.1],
    [1, 0.9],
    [1e300, 0.9],
  ])('clamps %d to %d with one NLSQ_MEMORY_FRACTION_CLAMPED warning', (fraction, clamped) => {
    const warnings = captureWarnings();
    getAdaptiveMemoryThresholdSync({ ...budget, memoryFraction: fraction });
    const { info, thresholdGb } = getAdaptiveMemoryThresholdSync({
      ...budget,
      memoryFraction: fraction,
    });
    expect(info.memoryFraction).toBe(clamped);
    expect(thresholdGb).toBeCloseTo(64 * clamped, 12);
    expect(warnings).toEqual([
      {
        code: 'NLSQ_MEMORY_FRACTION_CLAMPED',
        message: `Memory fraction ${fraction} from \`memoryFraction\` clamped to [0.1, 0.9]: using ${clamped}`,
      },
    ]);
  });

  it('clamps an environment value too', () => {
    const warnings = captureWarnings();
    vi.stubEnv(MEMORY_FRACTION_ENV_VAR, '0.95');
    expect(getAdaptiveMemoryThresholdSync(budget).info).toMatchObject({
      source: 'env',
      memoryFraction: 0.9,
    });
    expect(warnings.map((warning) => warning.code)).toEqual(['NLSQ_MEMORY_FRACTION_CLAMPED']);
  });

  it('emits no warning for fractions inside the range', () => {
    const warnings = captureWarnings();
    for (const fraction of [0.1, 0.5, 0.9])
      getAdaptiveMemoryThresholdSync({ ...budget, memoryFraction: fraction });
    expect(warnings).toEqual([]);
  });

  it('never gives a higher threshold for a lower fraction', () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    let previous = -1;
    for (let fraction = -0.5; fraction <= 1.5; fraction += 0.01) {
      const { thresholdGb } = getAdaptiveMemoryThresholdSync({
        ...budget,
        memoryFraction: fraction,
      });
      expect(thresholdGb).toBeGreaterThanOrEqual(previous);
      previous = thresholdGb;
    }
  });
});
