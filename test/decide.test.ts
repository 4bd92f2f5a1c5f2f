import { describe, expect, it } from 'vitest';
import { decideNlsqStrategy, NLSQStrategy } from '../src/index.js';
import { GIB } from './helpers.js';

describe('decideNlsqStrategy', () => {
  it('streams when the index array alone exceeds the threshold', () => {
    const decision = decideNlsqStrategy(200_000_000, 10, 1);
    expect(decision.strategy).toBe(NLSQStrategy.HYBRID_STREAMING);
    expect(decision.reason).toBe('Index array (1.49 GB) exceeds threshold (1.00 GB)');
    expect(decision.reason.toLowerCase()).toContain('index');
  });

  it('goes out of core when the peak exceeds the threshold', () => {
    const decision = decideNlsqStrategy(23_000_000, 53, 16);
    expect(decision.strategy).toBe('out_of_core');
    expect(decision.peakMemoryGb.toFixed(2)).toBe('59.03');
    expect(decision.reason).toBe('Peak memory (59.03 GB) exceeds threshold (16.00 GB)');
  });

  it('stays standard when the peak fits', () => {
    const decision = decideNlsqStrategy(23_000_000, 9, 16);
    expect(decision.strategy).toBe('standard');
    expect(decision.reason).toBe('Memory fits: 10.02 GB < 16.00 GB threshold');
  });

  it('matches the other cases of the original tests', () => {
    const at10 = decideNlsqStrategy(44_739_243, 10, 10);
    expect(at10.strategy).toBe('out_of_core');
    expect(at10.peakMemoryGb.toFixed(2)).toBe('21.67');
    const at5 = decideNlsqStrategy(5_000_000, 53, 5);
    expect(at5.strategy).not.toBe('standard');
    expect(at5.peakMemoryGb.toFixed(2)).toBe('12.83');
    expect(decideNlsqStrategy(1e6, 10, 24).indexMemoryGb).toBe(8e6 / GIB);
  });

  it('says <= when the peak equals the threshold', () => {
    const peak = (1_000_000 * 10 * 8 * 6.5) / GIB;
    const decision = decideNlsqStrategy(1_000_000, 10, peak);
    expect(decision.strategy).toBe('standard');
    expect(decision.reason).toBe(
      `Memory fits: ${peak.toFixed(2)} GB <= ${peak.toFixed(2)} GB threshold`,
    );
  });

  it('rounds exact halves to even, as Python does', () => {
    expect(decideNlsqStrategy(1, 1, 1.125).reason).toBe('Memory fits: 0.00 GB < 1.12 GB threshold');
    expect(decideNlsqStrategy(1, 1, 0.375).reason).toBe('Memory fits: 0.00 GB < 0.38 GB threshold');
    expect(decideNlsqStrategy(1, 1, 2.625).reason).toBe('Memory fits: 0.00 GB < 2.62 GB threshold');
    expect(decideNlsqStrategy(1, 1, 2.675).reason).toBe('Memory fits: 0.00 GB < 2.67 GB threshold');
  });

  it('prints huge figures in plain digits', () => {
    const decision = decideNlsqStrategy(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 16);
    expect(decision.reason).toMatch(/^Index array \(\d+\.\d\d GB\)/);
    expect(decideNlsqStrategy(1e15, 1e15, 8388608).reason).toBe(
      'Peak memory (48428773880004882726912.00 GB) exceeds threshold (8388608.00 GB)',
    );
  });

  it('gives a finite peak for the largest sizes and multiplier it takes', () => {
    const most = Number.MAX_SAFE_INTEGER;
    const decision = decideNlsqStrategy(most, most, 16, {
      bytesPerElement: most,
      jacobianOverhead: 1e6,
    });
    expect(Number.isFinite(decision.peakMemoryGb)).toBe(true);
    expect(decision.reason).toMatch(/^Index array \(\d+\.\d\d GB\) exceeds threshold/);
    expect(decision.maxInMemoryPoints).toBe(0);
  });

  it('returns a frozen decision', () => {
    const decision = decideNlsqStrategy(10, 2, 1);
    expect(Object.isFrozen(decision)).toBe(true);
    expect(() => {
      (decision as { strategy: string }).strategy = 'standard';
    }).toThrow(TypeError);
  });

  it('uses bytesPerElement and jacobianOverhead for the peak only', () => {
    const float64 = decideNlsqStrategy(1_000_000, 100, 10);
    const float32 = decideNlsqStrategy(1_000_000, 100, 10, {
      bytesPerElement: 4,
      jacobianOverhead: 3,
    });
    expect(float32.peakMemoryGb).toBeCloseTo((float64.peakMemoryGb * 4 * 3) / (8 * 6.5), 12);
    expect(float32.indexMemoryGb).toBe(float64.indexMemoryGb);
  });

  it('treats zero parameters as no peak: only the index decides', () => {
    expect(decideNlsqStrategy(1e9, 0, 16).strategy).toBe('standard');
    expect(decideNlsqStrategy(1e10, 0, 16).strategy).toBe('hybrid_streaming');
    expect(decideNlsqStrategy(1e10, 0, 16).peakMemoryGb).toBe(0);
  });

  it('decides with a threshold of 0: nothing but an empty job fits', () => {
    expect(decideNlsqStrategy(0, 5, 0).strategy).toBe('standard');
    expect(decideNlsqStrategy(1, 0, 0).strategy).toBe('hybrid_streaming');
    expect(decideNlsqStrategy(0, 5, 0).maxInMemoryPoints).toBe(0);
  });
});

describe('maxInMemoryPoints', () => {
  const cases: [number, number, number?, number?][] = [
    [53, 17.655123710632324],
    [10, 16],
    [1, 0.001],
    [0, 16],
    [200, 1.125],
    [7, 3.3, 4, 2.5],
    [1, 1e-9],
    [3, 8388608],
  ];
  it.each(cases)(
    'is exact to the point for %d parameters at %d GB',
    (nParams, thresholdGb, bytesPerElement, jacobianOverhead) => {
      const options = {
        ...(bytesPerElement === undefined ? {} : { bytesPerElement }),
        ...(jacobianOverhead === undefined ? {} : { jacobianOverhead }),
      };
      const { maxInMemoryPoints } = decideNlsqStrategy(1, nParams, thresholdGb, options);
      expect(decideNlsqStrategy(maxInMemoryPoints, nParams, thresholdGb, options).strategy).toBe(
        'standard',
      );
      expect(
        decideNlsqStrategy(maxInMemoryPoints + 1, nParams, thresholdGb, options).strategy,
      ).not.toBe('standard');
    },
  );

  it('does not depend on nPoints', () => {
    const a = decideNlsqStrategy(1, 53, 16).maxInMemoryPoints;
    expect(decideNlsqStrategy(1e9, 53, 16).maxInMemoryPoints).toBe(a);
  });

  it('is exact at the largest threshold, 2 ** 53 bytes: the index array alone, 8 bytes a point', () => {
    expect(decideNlsqStrategy(1, 0, 8388608).maxInMemoryPoints).toBe(2 ** 50);
  });
});

describe('monotonicity', () => {
  const weight = { standard: 0, out_of_core: 1, hybrid_streaming: 2 } as const;
  it('never picks a lighter strategy for more points or more parameters', () => {
    for (const threshold of [0.5, 4, 16, 48]) {
      for (const nParams of [0, 1, 9, 53]) {
        let previous = 0;
        for (let exponent = 0; exponent <= 11; exponent += 0.25) {
          const nPoints = Math.round(10 ** exponent);
          const current = weight[decideNlsqStrategy(nPoints, nParams, threshold).strategy];
          expect(current).toBeGreaterThanOrEqual(previous);
          previous = current;
          expect(
            weight[decideNlsqStrategy(nPoints, nParams + 1, threshold).strategy],
          ).toBeGreaterThanOrEqual(current);
        }
      }
    }
  });
});
