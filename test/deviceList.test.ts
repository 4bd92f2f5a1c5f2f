// A device list given as `devices`: every figure a budget is made of is checked before it is used,
// and no figure, however bad, makes a plan return NaN or search for ever.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type DeviceMemory,
  decideNlsqStrategy,
  getAdaptiveMemoryThresholdSync,
  planNlsqFitSync,
} from '../src/index.js';
import { largestFitting } from '../src/policy/largest.js';
import { captureWarnings, GIB } from './helpers.js';

afterEach(() => {
  vi.restoreAllMocks();
});

const GPU: DeviceMemory = {
  index: 0,
  uuid: 'GPU-0a1b2c3d',
  name: 'NVIDIA L4',
  vendor: 'nvidia',
  totalBytes: 8 * GIB,
  freeBytes: 6 * GIB,
  unifiedMemory: false,
  source: 'nvidia-smi',
};

/** A plan for device 0 of a one-GPU list whose entry has `change`. */
const planWith = (change: Record<string, unknown>) => () =>
  planNlsqFitSync(1_000_000, 10, {
    device: 0,
    devices: [{ ...GPU, ...change } as never],
    basis: 'available',
  });

describe('a device entry', () => {
  it('with a free memory that is no number of bytes is a RangeError naming it', () => {
    for (const bad of [Number.NaN, -5, 1.5, Number.POSITIVE_INFINITY]) {
      expect(planWith({ freeBytes: bad })).toThrow(RangeError);
    }
    expect(planWith({ freeBytes: Number.NaN })).toThrow(
      'Expected `devices[0].freeBytes` to be a non-negative integer or null, got NaN',
    );
    expect(planWith({ freeBytes: -5 })).toThrow(
      'Expected `devices[0].freeBytes` to be a non-negative integer or null, got -5',
    );
    expect(planWith({ freeBytes: 2 ** 60 })).toThrow(
      'Expected `devices[0].freeBytes` to be at most Number.MAX_SAFE_INTEGER',
    );
  });

  it('with a free memory that is not a number is a TypeError', () => {
    expect(planWith({ freeBytes: '6442450944' })).toThrow(TypeError);
    expect(planWith({ freeBytes: undefined })).toThrow(
      'Expected `devices[0].freeBytes` to be a non-negative integer or null, got undefined',
    );
  });

  it('may leave its free memory unknown: the total is budgeted', () => {
    expect(planWith({ freeBytes: null })().thresholdBytes).toBe(6 * GIB);
    expect(planWith({ freeBytes: 0 })).toThrow(/Not even one point fits/);
  });

  it('names its vendor as detectDeviceMemory does', () => {
    expect(planWith({ vendor: 'NVIDIA' })).toThrow(
      "Expected `devices[0].vendor` to be 'nvidia' or 'amd' or 'other', got 'NVIDIA'",
    );
    expect(planWith({ vendor: undefined })).toThrow(TypeError);
  });

  it('checks every entry, not only the one budgeted', () => {
    const devices = [GPU, { ...GPU, index: 1, freeBytes: Number.NaN }] as never;
    expect(() => getAdaptiveMemoryThresholdSync({ device: 0, devices })).toThrow(
      '`devices[1].freeBytes`',
    );
  });

  it('keeps its name and UUID as free text', () => {
    const devices = [{ ...GPU, name: '', uuid: null }];
    expect(getAdaptiveMemoryThresholdSync({ device: 0, devices }).thresholdGb).toBe(6);
  });
});

describe("an entry's uncertainty", () => {
  const L4 = {
    sourceIndex: 1,
    uuid: null,
    name: 'NVIDIA L4',
    totalBytes: 22 * GIB,
    freeBytes: null,
  };
  const withCandidates = (candidates: unknown, reason: unknown = 'order') =>
    planWith({ uncertain: { reason, candidates } });

  it('checks every figure of the GPUs the device may be', () => {
    expect(withCandidates([L4, { ...L4, freeBytes: Number.NaN }])).toThrow(
      'Expected `devices[0].uncertain.candidates[1].freeBytes` to be a non-negative integer or null, got NaN',
    );
    expect(withCandidates([{ ...L4, totalBytes: -1 }])).toThrow(
      '`devices[0].uncertain.candidates[0].totalBytes`',
    );
    expect(withCandidates([{ ...L4, sourceIndex: 'one' }])).toThrow(TypeError);
    expect(withCandidates([])).toThrow(
      'Expected `devices[0].uncertain.candidates` to be a non-empty array of GPUs, got []',
    );
    expect(withCandidates([L4], 'guess')).toThrow(
      "Expected `devices[0].uncertain.reason` to be 'order' or 'uuid', got 'guess'",
    );
    expect(planWith({ uncertain: 'order' })).toThrow(TypeError);
  });

  it('budgets the smallest GPU the device may be', () => {
    captureWarnings();
    const A100 = { ...L4, sourceIndex: 0, name: 'NVIDIA A100', totalBytes: 80 * GIB };
    const total = (uncertain: unknown) =>
      getAdaptiveMemoryThresholdSync({
        device: 0,
        devices: [{ ...GPU, uncertain } as never],
        env: {},
      }).info.totalMemoryGb;
    expect(total({ reason: 'order', candidates: [A100, L4] })).toBe(22);
    expect(total(null)).toBe(8);
    // An order settled by the env given settles 'order'; an unmatched UUID stays unsure.
    const byBus = (uncertain: unknown) =>
      getAdaptiveMemoryThresholdSync({
        device: 0,
        devices: [{ ...GPU, uncertain } as never],
        env: { CUDA_DEVICE_ORDER: 'PCI_BUS_ID' },
      }).info.totalMemoryGb;
    expect(byBus({ reason: 'order', candidates: [A100, L4] })).toBe(8);
    expect(byBus({ reason: 'uuid', candidates: [A100, L4] })).toBe(22);
  });
});

describe('the search for the largest size that fits', () => {
  it('refuses a start that is not a finite size, rather than search for ever', () => {
    const always = () => true;
    expect(() => largestFitting(always, Number.NaN)).toThrow(
      'Expected `guess` to be a finite number >= 0, got NaN',
    );
    expect(() => largestFitting(always, -1)).toThrow(RangeError);
    expect(() => largestFitting(always, Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(largestFitting(always, 10)).toBe(Number.MAX_SAFE_INTEGER);
    expect(largestFitting((n) => n <= 1000, 7)).toBe(1000);
  });

  it('still finds every in-memory maximum of a huge threshold', () => {
    // 10 parameters × 8 bytes × 6.5: 520 bytes a point, against 2 ** 53 bytes.
    expect(decideNlsqStrategy(1, 10, 8388608).maxInMemoryPoints).toBe(Math.floor(2 ** 53 / 520));
  });
});
