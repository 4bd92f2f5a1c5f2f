import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { visibleDevices } from '../src/detect/visibility.js';
import { type DeviceMemory, getAdaptiveMemoryThresholdSync } from '../src/index.js';
import { findDevice } from '../src/policy/device.js';
import { parseGraphics, vendorOf } from '../src/sources/gpu/graphics.js';
import { parseNvidiaSmi } from '../src/sources/gpu/nvidiaSmi.js';
import type { RawDevice } from '../src/sources/gpu/rawDevice.js';
import { parseRocmSmi } from '../src/sources/gpu/rocmSmi.js';
import { envValue } from '../src/sources/gpu/tools.js';
import { captureWarnings, GIB, MIB } from './helpers.js';

const H100 = '0, GPU-5d3c0f6a-7b2e-4c1d-9a8f-0123456789ab, NVIDIA H100 80GB HBM3, 81559, 80435';

/** nvidia-smi's answer for `count` GPUs with distinct UUIDs `GPU-<i>aaa…`. */
function nvidiaLines(count: number): string {
  return Array.from(
    { length: count },
    (_, i) =>
      `${i}, GPU-${i}aaaaaaa-0000-0000-0000-00000000000${i}, NVIDIA A100-SXM4-40GB, 40960, ${40000 - i}`,
  ).join('\n');
}

// UUIDs that match nothing, and indices on GPUs that differ, warn: not on this run's stderr.
beforeEach(() => {
  captureWarnings();
});

afterEach(() => {
  vi.restoreAllMocks();
});

const eight = parseNvidiaSmi(nvidiaLines(8)) ?? [];
const visible = (env: Record<string, string | undefined>, devices: RawDevice[] = eight) =>
  visibleDevices(devices, 'nvidia-smi', env).map((device) => device.uuid?.slice(0, 5));

describe('nvidia-smi output', () => {
  it('gives one device per line, memory in MiB as bytes', () => {
    expect(parseNvidiaSmi(`${H100}\n`)).toEqual([
      {
        ordinal: 0,
        uuid: 'GPU-5d3c0f6a-7b2e-4c1d-9a8f-0123456789ab',
        name: 'NVIDIA H100 80GB HBM3',
        vendor: 'nvidia',
        totalBytes: 81559 * MIB,
        freeBytes: 80435 * MIB,
        unifiedMemory: false,
        migEnabled: false,
      },
    ]);
  });

  it('reads eight GPUs, in index order, and Windows line ends', () => {
    const lines = nvidiaLines(8).split('\n').reverse().join('\r\n');
    const devices = parseNvidiaSmi(lines) ?? [];
    expect(devices.map((device) => device.ordinal)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(devices[7]?.freeBytes).toBe(39993 * MIB);
  });

  it.each([
    ['[N/A]', '[N/A]'],
    ['N/A', 'N/A'],
    ['[Not Supported]', '[Insufficient Permissions]'],
  ])('turns %s fields (MIG, some drivers) into null, never NaN', (uuid, free) => {
    const [device] = parseNvidiaSmi(`0, ${uuid}, NVIDIA A100-SXM4-40GB, 40960, ${free}`) ?? [];
    expect(device).toMatchObject({ uuid: null, totalBytes: 40960 * MIB, freeBytes: null });
  });

  it('keeps a device whose total is N/A with a null total, for visibility to count it', () => {
    const devices = parseNvidiaSmi(
      '0, GPU-a, NVIDIA A100, [N/A], [N/A]\n1, GPU-b, NVIDIA A100, 40960, 100',
    );
    expect(devices?.map((device) => device.totalBytes)).toEqual([null, 40960 * MIB]);
  });

  it('keeps commas in names, names a nameless device, and caps free memory at the total', () => {
    expect(parseNvidiaSmi('3, GPU-x, Tesla K80, rev. B, 11441, 11500')?.[0]).toMatchObject({
      ordinal: 3,
      name: 'Tesla K80, rev. B',
      freeBytes: 11441 * MIB,
    });
    expect(parseNvidiaSmi('2, GPU-y, [N/A], 1024, 10')?.[0]?.name).toBe('GPU 2');
  });

  it('skips lines that are not devices, and duplicate indices', () => {
    const text = `WARNING: infoROM is corrupted at gpu 0000:00:1E.0\n${H100}\n0, GPU-dup, X, 1, 1\n`;
    expect(parseNvidiaSmi(text)?.map((device) => device.uuid)).toEqual([
      'GPU-5d3c0f6a-7b2e-4c1d-9a8f-0123456789ab',
    ]);
  });

  it.each([
    ['empty output', ''],
    [
      'a driver error',
      "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
    ],
    ['too few fields', '0, GPU-x, 81559'],
    ['a bad index', 'x, GPU-x, H100, 81559, 80435'],
    ['a negative index', '-1, GPU-x, H100, 81559, 80435'],
    ['a bad total', '0, GPU-x, H100, 80GB, 80435'],
    ['a negative free figure', '0, GPU-x, H100, 81559, -5'],
    ['a header line', 'index, uuid, name, memory.total [MiB], memory.free [MiB]'],
  ])('gives undefined for %s', (_, text) => {
    expect(parseNvidiaSmi(text)).toBeUndefined();
  });
});

describe('rocm-smi output', () => {
  const json = JSON.stringify({
    card1: { 'VRAM Total Memory (B)': '68702699520', 'VRAM Total Used Memory (B)': '1048576' },
    card0: { 'VRAM Total Memory (B)': '68702699520', 'VRAM Total Used Memory (B)': '10485760' },
  });

  it('gives one device per card, in card order, bytes as they are', () => {
    expect(parseRocmSmi(json)).toEqual([
      {
        ordinal: 0,
        uuid: null,
        name: 'card0',
        vendor: 'amd',
        totalBytes: 68702699520,
        freeBytes: 68702699520 - 10485760,
      },
      {
        ordinal: 1,
        uuid: null,
        name: 'card1',
        vendor: 'amd',
        totalBytes: 68702699520,
        freeBytes: 68702699520 - 1048576,
      },
    ]);
  });

  it('ignores text around the JSON and keys that are not cards', () => {
    const text = `WARNING: something {odd}\n{"system": {"x": 1}, "card2": {"VRAM Total Memory (B)": 1024, "VRAM Total Used Memory (B)": 2048}}\n`;
    expect(parseRocmSmi(text)).toEqual([
      { ordinal: 2, uuid: null, name: 'card2', vendor: 'amd', totalBytes: 1024, freeBytes: 0 },
    ]);
  });

  it('turns N/A and missing figures into null', () => {
    const devices = parseRocmSmi(
      '{"card0": {"VRAM Total Memory (B)": "N/A"}, "card1": {"VRAM Total Memory (B)": "1024", "VRAM Total Used Memory (B)": "[N/A]"}}',
    );
    expect(devices?.map(({ totalBytes, freeBytes }) => [totalBytes, freeBytes])).toEqual([
      [null, null],
      [1024, null],
    ]);
  });

  it.each([
    ['no JSON', 'ERROR: No AMD GPUs specified'],
    ['broken JSON', '{"card0": {'],
    ['invalid JSON', '{"card0": }'],
    ['a JSON array', '[{"card0": 1}]'],
    ['no card', '{"system": {}}'],
    ['a card that is not an object', '{"card0": "68702699520"}'],
    ['a garbled total', '{"card0": {"VRAM Total Memory (B)": "64 GB"}}'],
    [
      'a garbled used figure',
      '{"card0": {"VRAM Total Memory (B)": "1024", "VRAM Total Used Memory (B)": true}}',
    ],
    ['a fractional total', '{"card0": {"VRAM Total Memory (B)": 1.5}}'],
    ['braces the wrong way round', '} {'],
  ])('gives undefined for %s', (_, text) => {
    expect(parseRocmSmi(text)).toBeUndefined();
  });
});

describe("systeminformation's graphics()", () => {
  it('maps controllers: vram and memoryFree in MiB, vendors, numbers per vendor', () => {
    const devices = parseGraphics({
      controllers: [
        { vendor: 'Intel Corporation', model: 'UHD Graphics 630', vram: 1024, vramDynamic: true },
        {
          vendor: 'NVIDIA Corporation',
          model: 'NVIDIA GeForce RTX 4090',
          vram: 24564,
          memoryFree: 24000,
        },
        {
          vendor: 'Advanced Micro Devices, Inc. [AMD/ATI]',
          model: 'Radeon RX 7900 XTX',
          vram: 24576,
        },
        { vendor: '', vendorId: '10de', name: 'Tesla T4', vram: 15360, vramDynamic: false },
        { vendor: 'NVIDIA', model: '', vram: null },
        'not a controller',
      ],
    });
    expect(devices).toEqual([
      {
        ordinal: 0,
        uuid: null,
        name: 'UHD Graphics 630',
        vendor: 'other',
        totalBytes: null,
        freeBytes: null,
      },
      {
        ordinal: 0,
        uuid: null,
        name: 'NVIDIA GeForce RTX 4090',
        vendor: 'nvidia',
        totalBytes: 24564 * MIB,
        freeBytes: 24000 * MIB,
      },
      {
        ordinal: 0,
        uuid: null,
        name: 'Radeon RX 7900 XTX',
        vendor: 'amd',
        totalBytes: 24576 * MIB,
        freeBytes: null,
      },
      {
        ordinal: 1,
        uuid: null,
        name: 'Tesla T4',
        vendor: 'nvidia',
        totalBytes: 15360 * MIB,
        freeBytes: null,
      },
      {
        ordinal: 2,
        uuid: null,
        name: 'NVIDIA',
        vendor: 'nvidia',
        totalBytes: null,
        freeBytes: null,
      },
    ]);
    expect(parseGraphics({ controllers: [{ vram: 0 }] })).toEqual([
      { ordinal: 0, uuid: null, name: 'GPU', vendor: 'other', totalBytes: null, freeBytes: null },
    ]);
  });

  it('gives [] for no controller, undefined for anything but a controllers array', () => {
    expect(parseGraphics({ controllers: [], displays: [] })).toEqual([]);
    for (const data of [undefined, null, 'x', [], { controllers: {} }]) {
      expect(parseGraphics(data)).toBeUndefined();
    }
  });

  it.each([
    ['NVIDIA Corporation', undefined, 'nvidia'],
    ['nVidia', undefined, 'nvidia'],
    ['Advanced Micro Devices, Inc. [AMD/ATI]', undefined, 'amd'],
    ['AMD', undefined, 'amd'],
    ['ATI Technologies Inc.', undefined, 'amd'],
    ['', '0x1002', 'amd'],
    ['', '10DE', 'nvidia'],
    ['Intel Corporation', '8086', 'other'],
    ['Apple', undefined, 'other'],
    [undefined, 4318, 'other'],
  ])('maps vendor %o (id %o) to %s', (vendor, id, expected) => {
    expect(vendorOf(vendor, id)).toBe(expected);
  });
});

describe('CUDA_VISIBLE_DEVICES', () => {
  it.each([
    ['unset', undefined, ['GPU-0', 'GPU-1', 'GPU-2', 'GPU-3', 'GPU-4', 'GPU-5', 'GPU-6', 'GPU-7']],
    ['indices, in the order listed', '3,1', ['GPU-3', 'GPU-1']],
    ['indices with spaces', ' 5 , 6 ', ['GPU-5', 'GPU-6']],
    ['a full UUID', 'GPU-2aaaaaaa-0000-0000-0000-000000000002', ['GPU-2']],
    ['unique UUID prefixes, any case', 'gpu-7,GPU-4a', ['GPU-7', 'GPU-4']],
    ['UUIDs and indices mixed', 'GPU-6,0', ['GPU-6', 'GPU-0']],
    ['empty: none', '', []],
    ['-1: none', '-1', []],
    ['an index past the end: it and all later ones hidden', '1,8,2', ['GPU-1']],
    ['an unknown UUID: it and all later ones hidden', '0,GPU-ffff,1', ['GPU-0']],
    ['a bare GPU- prefix: hidden from there', '2,GPU-,3', ['GPU-2']],
    ['a name that is neither: hidden from there', '4,H100,5', ['GPU-4']],
    ['a listed device twice: hidden from the repeat', '1,1,2', ['GPU-1']],
    ['an empty entry: hidden from there', '0,,1', ['GPU-0']],
  ])('%s', (_, value, expected) => {
    expect(visible({ CUDA_VISIBLE_DEVICES: value })).toEqual(expected);
  });

  it('hides from an ambiguous UUID prefix on', () => {
    const twins = parseNvidiaSmi('0, GPU-abc1, A100, 40960, 1\n1, GPU-abc2, A100, 40960, 1') ?? [];
    expect(visible({ CUDA_VISIBLE_DEVICES: '1,GPU-abc,0' }, twins)).toEqual(['GPU-a']);
    expect(visible({ CUDA_VISIBLE_DEVICES: 'GPU-abc2' }, twins)).toEqual(['GPU-a']);
  });

  it('renumbers visible devices from 0', () => {
    const devices = visibleDevices(eight, 'nvidia-smi', { CUDA_VISIBLE_DEVICES: '6,2' });
    expect(devices.map(({ index, freeBytes }) => [index, freeBytes])).toEqual([
      [0, 39994 * MIB],
      [1, 39998 * MIB],
    ]);
    expect(devices[0]).toMatchObject({ source: 'nvidia-smi', vendor: 'nvidia' });
  });

  it('is not restricted by ROCR_VISIBLE_DEVICES or HIP_VISIBLE_DEVICES', () => {
    expect(visible({ HIP_VISIBLE_DEVICES: '', ROCR_VISIBLE_DEVICES: '' })).toHaveLength(8);
    expect(visible({ HIP_VISIBLE_DEVICES: '1' })).toHaveLength(8);
  });

  it('leaves out a device whose total is unreadable, without reusing its number', () => {
    const devices =
      parseNvidiaSmi('0, GPU-a, A100, [Unknown Error], [N/A]\n1, GPU-b, A100, 40960, 100') ?? [];
    expect(
      visibleDevices(devices, 'nvidia-smi', {}).map(({ index, uuid }) => [index, uuid]),
    ).toEqual([[1, 'GPU-b']]);
  });
});

describe('ROCR_VISIBLE_DEVICES and HIP_VISIBLE_DEVICES', () => {
  const cards = Array.from(
    { length: 4 },
    (_, i) => `"card${i}": {"VRAM Total Memory (B)": "${(i + 1) * GIB}"}`,
  );
  const amd = parseRocmSmi(`{${cards.join(',')}}`) ?? [];
  const names = (env: Record<string, string>) =>
    visibleDevices(amd, 'rocm-smi', env).map(({ index, name }) => `${index}:${name}`);

  it('select AMD devices; HIP indices count among those ROCR left visible', () => {
    expect(names({})).toEqual(['0:card0', '1:card1', '2:card2', '3:card3']);
    expect(names({ ROCR_VISIBLE_DEVICES: '3,1' })).toEqual(['0:card3', '1:card1']);
    expect(names({ HIP_VISIBLE_DEVICES: '2' })).toEqual(['0:card2']);
    expect(names({ ROCR_VISIBLE_DEVICES: '3,1,0', HIP_VISIBLE_DEVICES: '2,0' })).toEqual([
      '0:card0',
      '1:card3',
    ]);
    expect(names({ HIP_VISIBLE_DEVICES: '-1' })).toEqual([]);
    // No card has a known UUID here: one matching none may be any, and the smallest stands in.
    expect(names({ ROCR_VISIBLE_DEVICES: 'GPU-1234' })).toEqual(['0:card0']);
  });

  it('put NVIDIA devices before AMD ones before others, when one source lists several vendors', () => {
    const mixed = parseGraphics({
      controllers: [
        { vendor: 'Intel', model: 'Arc A770', vram: 16384 },
        { vendor: 'AMD', model: 'W7900', vram: 49152 },
        { vendor: 'NVIDIA', model: 'RTX A6000', vram: 49140 },
      ],
    });
    const listed = (env: Record<string, string>) =>
      visibleDevices(mixed ?? [], 'systeminformation', env).map(
        ({ index, name }) => `${index}:${name}`,
      );
    expect(listed({})).toEqual(['0:RTX A6000', '1:W7900', '2:Arc A770']);
    expect(listed({ ROCR_VISIBLE_DEVICES: '' })).toEqual(['0:RTX A6000', '1:Arc A770']);
  });
});

describe('envValue', () => {
  it('reads a variable by its exact name here, whatever the case on Windows', () => {
    expect(envValue({ PATH: '/bin' }, 'PATH')).toBe('/bin');
    expect(envValue({ Path: 'C:\\Windows' }, 'PATH')).toBe(
      process.platform === 'win32' ? 'C:\\Windows' : undefined,
    );
  });
});

describe('findDevice', () => {
  const devices: DeviceMemory[] = visibleDevices(eight.slice(0, 2), 'nvidia-smi', {});

  it('finds a device by its index', () => {
    expect(findDevice(devices, 1).uuid).toBe('GPU-1aaaaaaa-0000-0000-0000-000000000001');
  });

  it('throws a RangeError that lists the visible devices', () => {
    expect(() => findDevice(devices, 2)).toThrow(
      new RangeError(
        'Expected `device` to be the index of a visible GPU, got 2; visible: 0 (NVIDIA A100-SXM4-40GB, 40.00 GB), 1 (NVIDIA A100-SXM4-40GB, 40.00 GB)',
      ),
    );
    expect(() => findDevice([], 0)).toThrow(
      new RangeError(
        'Expected `device` to be the index of a visible GPU, got 0; no GPU is visible',
      ),
    );
  });

  it('is never reached with a device that is not a non-negative integer', () => {
    const threshold = (device: unknown) => () =>
      getAdaptiveMemoryThresholdSync({ device: device as number, devices });
    expect(threshold(-1)).toThrow(RangeError);
    expect(threshold(0.5)).toThrow(RangeError);
    expect(threshold('0')).toThrow(TypeError);
  });
});
