import { describe, expect, it } from 'vitest';
import { formatGb, GIB } from '../src/core/units.js';

describe('formatGb', () => {
  // Each expected string is what Python 3 prints for '%.2f' % value.
  it.each([
    [0, '0.00'],
    [1.125, '1.12'],
    [1.375, '1.38'],
    [2.675, '2.67'],
    [0.005, '0.01'],
    [0.015, '0.01'],
    [0.125, '0.12'],
    [1.005, '1.00'],
    [0.045, '0.04'],
    [1e-10, '0.00'],
    [17.66, '17.66'],
    [256.6700000000001, '256.67'],
    [123456789.125, '123456789.12'],
    [2 ** 49 + 0.125, '562949953421312.12'],
    [2 ** 50 + 0.25, '1125899906842624.25'],
    [2 ** 52 + 1, '4503599627370497.00'],
    [1e20, '100000000000000000000.00'],
    [1e21, '1000000000000000000000.00'],
    [7.5e29, '749999999999999944544724451328.00'],
    [7.500000000000001e29, '750000000000000085282212806656.00'],
    [Number.POSITIVE_INFINITY, 'inf'],
    [Number.NEGATIVE_INFINITY, '-inf'],
    [Number.NaN, 'nan'],
    [-1.125, '-1.12'],
    [-0, '-0.00'],
  ])('prints %d as Python prints it: %s', (value, expected) => {
    expect(formatGb(value)).toBe(expected);
  });

  it('has one GiB', () => {
    expect(GIB).toBe(1073741824);
  });
});
