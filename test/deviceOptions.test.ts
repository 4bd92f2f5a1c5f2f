import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type DeviceOptions, detectDeviceMemory } from '../src/index.js';
import { makeBin, runsIn, writeScript } from './helpers.js';

const bin = makeBin();
const counter = join(bin, 'runs');
writeScript(
  join(bin, 'nvidia-smi'),
  `echo run >> '${counter}'\necho "0, GPU-5d3c0f6a, NVIDIA H100 80GB HBM3, 81559, 80435, Disabled"`,
);
const env = { PATH: bin };

describe('detectDeviceMemory options', () => {
  const bad: [string, unknown, ErrorConstructor, RegExp][] = [
    ['options', 'fast', TypeError, /^Expected `options` to be an object, got 'fast'$/],
    ['options', [], TypeError, /`options`/],
    [
      'timeoutMs',
      '5000',
      TypeError,
      /^Expected `timeoutMs` to be a finite number > 0, got '5000'$/,
    ],
    ['timeoutMs', 0, RangeError, /`timeoutMs`.*got 0$/],
    ['timeoutMs', -1, RangeError, /`timeoutMs`/],
    ['timeoutMs', Number.NaN, RangeError, /`timeoutMs`/],
    ['timeoutMs', Number.POSITIVE_INFINITY, RangeError, /`timeoutMs`/],
    [
      'timeoutMs',
      2 ** 31,
      RangeError,
      /^Expected `timeoutMs` to be at most 2147483647 \(2 \*\* 31 - 1\), got 2147483648$/,
    ],
    ['ttlMs', -1, RangeError, /^Expected `ttlMs` to be a finite number >= 0, got -1$/],
    ['ttlMs', '1', TypeError, /`ttlMs`/],
    ['refresh', 'yes', TypeError, /^Expected `refresh` to be a boolean, got 'yes'$/],
    ['env', 'PATH=/bin', TypeError, /^Expected `env` to be an object/],
    ['env', ['PATH=/bin'], TypeError, /`env`/],
    ['env', { PATH: 5 }, TypeError, /^Expected `env.PATH` to be a string or undefined, got 5$/],
    [
      'env',
      { PATH: '/bin', CUDA_VISIBLE_DEVICES: 0 },
      TypeError,
      /^Expected `env.CUDA_VISIBLE_DEVICES` to be a string or undefined, got 0$/,
    ],
    ['probes', 5, TypeError, /^Expected `probes` to be an object, got 5$/],
    [
      'probes',
      { loadSystemInformation: 'systeminformation' },
      TypeError,
      /^Expected `probes.loadSystemInformation` to be a function/,
    ],
  ];

  it.each(bad)(
    'rejects a bad %s (%o) before running anything',
    async (name, value, type, message) => {
      const options = name === 'options' ? value : { env, [name]: value };
      const error = await detectDeviceMemory(options as DeviceOptions).catch((caught) => caught);
      expect(error).toBeInstanceOf(type);
      expect((error as Error).message).toMatch(message);
      expect(runsIn(counter)).toBe(0);
    },
  );

  it('takes null as "not given"', async () => {
    const options = { env, timeoutMs: null, ttlMs: null, refresh: null, probes: null };
    const devices = await detectDeviceMemory(options as unknown as DeviceOptions);
    expect(devices).toMatchObject([{ index: 0, source: 'nvidia-smi' }]);
    expect(runsIn(counter)).toBe(1);
  });

  it('takes a null loader in probes as "not given"', async () => {
    const probes = { loadSystemInformation: null };
    expect(await detectDeviceMemory({ env, probes })).toMatchObject([{ index: 0 }]);
  });
});

describe('on this machine', () => {
  it('resolves to an array of well-formed devices, GPUs or not, without throwing', async () => {
    const devices = await detectDeviceMemory({ refresh: true });
    expect(Array.isArray(devices)).toBe(true);
    devices.forEach((device, position) => {
      expect(device.index).toBeGreaterThanOrEqual(position);
      expect(
        device.unifiedMemory
          ? device.totalBytes === null
          : Number.isSafeInteger(device.totalBytes) && (device.totalBytes ?? 0) > 0,
      ).toBe(true);
      expect(device.freeBytes === null || Number.isFinite(device.freeBytes)).toBe(true);
      expect(['nvidia-smi', 'rocm-smi', 'systeminformation']).toContain(device.source);
    });
    expect(Array.isArray(await detectDeviceMemory(null))).toBe(true);
  });
});
