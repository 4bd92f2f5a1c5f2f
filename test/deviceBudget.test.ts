// The `device` option of the threshold, the strategy and the plan: the budget is a GPU's memory.
// GPUs come from fake nvidia-smi scripts first (and alone) on the PATH given through `env`, or
// from a fake systeminformation `graphics()` with no tool on PATH: nothing here depends on the
// GPUs, drivers or RAM of the machine that runs the tests. Script-based tests need a POSIX shell.
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  decideNlsqStrategy,
  GPU_MEMORY_FRACTION_ENV_VAR,
  getAdaptiveMemoryThreshold,
  getAdaptiveMemoryThresholdSync,
  MEMORY_FRACTION_ENV_VAR,
  type PlanWatchOptions,
  planNlsqFit,
  planNlsqFitSync,
  selectNlsqStrategy,
  selectNlsqStrategySync,
  type ThresholdOptions,
  watchNlsqStrategy,
} from '../src/index.js';
import {
  captureWarnings,
  GIB,
  graphicsProbes,
  MIB,
  makeBin,
  makeTree,
  meminfo,
  probesWith,
  runsIn,
  writeScript,
} from './helpers.js';

const posix = it.skipIf(process.platform === 'win32');

const H100 = 'NVIDIA H100 80GB HBM3';
const H100_MIB = 81559;

/** One nvidia-smi line: index, UUID, name, total and free MiB. */
function gpuLine(index: number, free: number | string = 80435, total = H100_MIB): string {
  return `${index}, GPU-${index}0000000-0000-4000-8000-000000000000, ${H100}, ${total}, ${free}, Disabled`;
}

/** A PATH holding only an nvidia-smi that prints `lines` and counts its runs in `<bin>/runs`. */
function nvidiaSmi(lines: string[]): { bin: string; runs: () => number } {
  const bin = makeBin();
  const counter = join(bin, 'runs');
  writeScript(
    join(bin, 'nvidia-smi'),
    `echo run >> '${counter}'\ncat <<'EOF'\n${lines.join('\n')}\nEOF`,
  );
  return { bin, runs: () => runsIn(counter) };
}

/** Probes whose `graphics()` answers `controllers`, counting calls. */
const graphics = (controllers: unknown[] = []) => graphicsProbes({ controllers });

/** An RTX 4090 as systeminformation reports it, with `memoryFree` MiB free. */
function rtx4090(memoryFree?: number) {
  return {
    vendor: 'NVIDIA Corporation',
    model: 'NVIDIA GeForce RTX 4090',
    vram: 24564,
    ...(memoryFree === undefined ? {} : { memoryFree }),
  };
}

/** No tool on PATH, and a fake `graphics()`: one RTX 4090 (24564 MiB, 20000 free). */
function oneGpu(env: Record<string, string | undefined> = {}): ThresholdOptions {
  return { env: { PATH: '', ...env }, deviceProbes: graphics([rtx4090(20000)]) };
}

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('getAdaptiveMemoryThreshold with device', () => {
  posix("takes 75% of device 0's total memory, named by its tool", async () => {
    const { bin } = nvidiaSmi([gpuLine(0)]);
    const probes = graphics();
    const { thresholdGb, thresholdBytes, info } = await getAdaptiveMemoryThreshold({
      device: 0,
      env: { PATH: bin },
      deviceProbes: probes,
    });
    expect(thresholdGb).toBe((H100_MIB * MIB * 0.75) / GIB);
    expect(thresholdBytes).toBe(Math.floor(H100_MIB * MIB * 0.75));
    expect(info).toEqual({
      totalMemoryGb: (H100_MIB * MIB) / GIB,
      memoryFraction: 0.75,
      source: 'default',
      detectionMethod: 'nvidia-smi',
      limitSource: null,
      basis: 'total',
    });
    expect(probes.calls.graphics).toBe(0);
  });

  posix("takes the device's free memory with basis 'available'", async () => {
    const { bin } = nvidiaSmi([gpuLine(0, 40000)]);
    const { thresholdGb, info } = await getAdaptiveMemoryThreshold({
      device: 0,
      basis: 'available',
      memoryFraction: 0.5,
      env: { PATH: bin },
      deviceProbes: graphics(),
    });
    expect(thresholdGb).toBe((40000 * MIB * 0.5) / GIB);
    expect(info).toMatchObject({ basis: 'available', totalMemoryGb: (40000 * MIB) / GIB });
  });

  posix("falls back to the total, with info.basis 'total', when free memory is [N/A]", async () => {
    const { bin } = nvidiaSmi([gpuLine(0, '[N/A]', 40960)]);
    const { thresholdGb, info } = await getAdaptiveMemoryThreshold({
      device: 0,
      basis: 'available',
      env: { PATH: bin },
      deviceProbes: graphics(),
    });
    expect(thresholdGb).toBe(30);
    expect(info).toMatchObject({
      basis: 'total',
      totalMemoryGb: 40,
      detectionMethod: 'nvidia-smi',
    });
  });

  posix('picks device 1 of 8', async () => {
    const lines = Array.from({ length: 8 }, (_, i) => gpuLine(i, 1000 * (i + 1), 40960 + i));
    const { bin, runs } = nvidiaSmi(lines);
    // Models differ in memory: CUDA numbers them as nvidia-smi does only in PCI bus order.
    const env = { PATH: bin, CUDA_DEVICE_ORDER: 'PCI_BUS_ID' };
    const options = { env, deviceProbes: graphics(), ttlMs: 60_000 };
    const { info } = await getAdaptiveMemoryThreshold({
      ...options,
      device: 1,
      basis: 'available',
    });
    expect(info.totalMemoryGb).toBe((2000 * MIB) / GIB);
    const total = await getAdaptiveMemoryThreshold({ ...options, device: 7 });
    expect(total.info.totalMemoryGb).toBe(((40960 + 7) * MIB) / GIB);
    expect(runs()).toBe(1);
  });

  posix('numbers devices as CUDA_VISIBLE_DEVICES does, by index or UUID', async () => {
    const lines = Array.from({ length: 8 }, (_, i) => gpuLine(i, 1000, 40960 + i));
    const { bin } = nvidiaSmi(lines);
    const probes = graphics();
    const total = async (device: number, visible: string) =>
      (
        await getAdaptiveMemoryThreshold({
          device,
          env: { PATH: bin, CUDA_VISIBLE_DEVICES: visible, CUDA_DEVICE_ORDER: 'PCI_BUS_ID' },
          deviceProbes: probes,
          ttlMs: 60_000,
        })
      ).info.totalMemoryGb * 1024;
    expect(await total(0, '5,2')).toBe(40965);
    expect(await total(1, '5,2')).toBe(40962);
    expect(await total(0, 'GPU-30000000')).toBe(40963);
    await expect(total(2, '5,2')).rejects.toThrow(
      'Expected `device` to be the index of a visible GPU, got 2; visible: 0 (NVIDIA H100 80GB HBM3, 40.00 GB), 1 (NVIDIA H100 80GB HBM3, 40.00 GB)',
    );
    await expect(total(0, '-1')).rejects.toThrow(/got 0; no GPU is visible$/);
  });

  it('rejects a device that is not visible with a RangeError listing the visible ones', async () => {
    const error = await getAdaptiveMemoryThreshold({ device: 3, ...oneGpu() }).catch((e) => e);
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe(
      'Expected `device` to be the index of a visible GPU, got 3; visible: 0 (NVIDIA GeForce RTX 4090, 23.99 GB)',
    );
  });

  it('rejects any device on a machine without a GPU: "no GPU is visible", never a fallback', async () => {
    const warnings = captureWarnings();
    const probes = graphics();
    const error = await selectNlsqStrategy(1, 1, {
      device: 0,
      env: { PATH: '' },
      deviceProbes: probes,
    }).catch((e) => e);
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toBe(
      'Expected `device` to be the index of a visible GPU, got 0; no GPU is visible',
    );
    expect(probes.calls.graphics).toBe(1);
    expect(warnings).toEqual([]);
  });

  it('reads a GPU from systeminformation when no tool is on PATH', async () => {
    const options = oneGpu();
    const { thresholdGb, info } = await getAdaptiveMemoryThreshold({ ...options, device: 0 });
    expect(thresholdGb).toBe((24564 * MIB * 0.75) / GIB);
    expect(info.detectionMethod).toBe('systeminformation');
    const available = await getAdaptiveMemoryThreshold({
      ...options,
      device: 0,
      basis: 'available',
    });
    expect(available.info).toMatchObject({
      basis: 'available',
      totalMemoryGb: (20000 * MIB) / GIB,
    });
  });

  it('reads no host memory for a device', async () => {
    const host = probesWith(64 * GIB, 64 * GIB);
    const fsRoot = makeTree({ 'proc/meminfo': meminfo(64 * GIB, 60 * GIB) });
    const { info } = await getAdaptiveMemoryThreshold({
      ...oneGpu(),
      device: 0,
      fsRoot,
      probes: host,
    });
    expect(info.totalMemoryGb).toBe((24564 * MIB) / GIB);
    expect(host.calls).toEqual({ load: 0, mem: 0 });
  });

  it('ignores NLSQ_GPU_MEMORY_FRACTION without device', async () => {
    const { info } = await getAdaptiveMemoryThreshold({
      totalMemoryBytes: 64 * GIB,
      env: { [GPU_MEMORY_FRACTION_ENV_VAR]: '0.5' },
    });
    expect(info).toMatchObject({ memoryFraction: 0.75, source: 'default' });
  });
});

describe('the fraction of a GPU', () => {
  it('is the argument, else NLSQ_GPU_MEMORY_FRACTION, else NLSQ_MEMORY_FRACTION, else 0.75', async () => {
    expect(GPU_MEMORY_FRACTION_ENV_VAR).toBe('NLSQ_GPU_MEMORY_FRACTION');
    const both = { [GPU_MEMORY_FRACTION_ENV_VAR]: '0.6', [MEMORY_FRACTION_ENV_VAR]: '0.4' };
    const fraction = async (env: Record<string, string>, argument?: number) =>
      (
        await getAdaptiveMemoryThreshold({
          ...oneGpu(env),
          device: 0,
          memoryFraction: argument ?? null,
        })
      ).info;
    expect(await fraction(both, 0.8)).toMatchObject({ memoryFraction: 0.8, source: 'argument' });
    expect(await fraction(both)).toMatchObject({ memoryFraction: 0.6, source: 'env' });
    expect(await fraction({ [MEMORY_FRACTION_ENV_VAR]: '0.4' })).toMatchObject({
      memoryFraction: 0.4,
      source: 'env',
    });
    expect(await fraction({})).toMatchObject({ memoryFraction: 0.75, source: 'default' });
  });

  it('reads process.env when no env is given', () => {
    vi.stubEnv(GPU_MEMORY_FRACTION_ENV_VAR, '0.5');
    vi.stubEnv(MEMORY_FRACTION_ENV_VAR, '0.25');
    const budget = { totalMemoryBytes: 8 * GIB };
    expect(getAdaptiveMemoryThresholdSync({ ...budget, device: 0 }).thresholdGb).toBe(4);
    expect(getAdaptiveMemoryThresholdSync(budget).thresholdGb).toBe(2);
  });

  it.each(['', 'nan', 'inf', '0.6abc', 'half'])(
    'skips NLSQ_GPU_MEMORY_FRACTION=%o with its own warning, for the next source',
    (text) => {
      const warnings = captureWarnings();
      const budget = { totalMemoryBytes: 8 * GIB, device: 0 };
      const withHost = getAdaptiveMemoryThresholdSync({
        ...budget,
        env: { [GPU_MEMORY_FRACTION_ENV_VAR]: text, [MEMORY_FRACTION_ENV_VAR]: '0.5' },
      });
      expect(withHost.info).toMatchObject({ memoryFraction: 0.5, source: 'env' });
      const alone = getAdaptiveMemoryThresholdSync({
        ...budget,
        env: { [GPU_MEMORY_FRACTION_ENV_VAR]: text },
      });
      expect(alone.info).toMatchObject({ memoryFraction: 0.75, source: 'default' });
      expect(warnings).toEqual([
        {
          code: 'NLSQ_GPU_MEMORY_FRACTION_INVALID',
          message: `Invalid NLSQ_GPU_MEMORY_FRACTION=${JSON.stringify(text)}, using NLSQ_MEMORY_FRACTION or default 0.75`,
        },
      ]);
    },
  );

  it('clamps NLSQ_GPU_MEMORY_FRACTION to [0.1, 0.9] with its own warning', () => {
    const warnings = captureWarnings();
    const budget = { totalMemoryBytes: 10 * GIB, device: 0 };
    const high = getAdaptiveMemoryThresholdSync({
      ...budget,
      env: { [GPU_MEMORY_FRACTION_ENV_VAR]: '0.95' },
    });
    const low = getAdaptiveMemoryThresholdSync({
      ...budget,
      env: { [GPU_MEMORY_FRACTION_ENV_VAR]: '0.01' },
    });
    expect([high.info.memoryFraction, low.info.memoryFraction]).toEqual([0.9, 0.1]);
    expect(warnings).toEqual([
      {
        code: 'NLSQ_GPU_MEMORY_FRACTION_CLAMPED',
        message:
          'GPU memory fraction 0.95 from NLSQ_GPU_MEMORY_FRACTION clamped to [0.1, 0.9]: using 0.9',
      },
    ]);
  });

  it('warns as before for an argument or NLSQ_MEMORY_FRACTION out of range', () => {
    const warnings = captureWarnings();
    const budget = { totalMemoryBytes: 10 * GIB, device: 0 };
    getAdaptiveMemoryThresholdSync({ ...budget, memoryFraction: 2, env: {} });
    expect(warnings.map(({ code }) => code)).toEqual(['NLSQ_MEMORY_FRACTION_CLAMPED']);
    const next = captureWarnings();
    getAdaptiveMemoryThresholdSync({ ...budget, env: { [MEMORY_FRACTION_ENV_VAR]: 'x' } });
    expect(next.map(({ code }) => code)).toEqual(['NLSQ_MEMORY_FRACTION_INVALID']);
  });
});

describe('selectNlsqStrategy and planNlsqFit with device', () => {
  posix("decide against 75% of the GPU's memory", async () => {
    const { bin } = nvidiaSmi([gpuLine(0)]);
    const decision = await selectNlsqStrategy(50_000_000, 53, {
      device: 0,
      env: { PATH: bin },
      deviceProbes: graphics(),
    });
    const thresholdGb = (H100_MIB * MIB * 0.75) / GIB;
    expect(decision).toEqual(decideNlsqStrategy(50_000_000, 53, thresholdGb));
    expect(decision.strategy).toBe('out_of_core');
    expect(decision.reason).toBe('Peak memory (128.34 GB) exceeds threshold (59.74 GB)');
  });

  it('plans per worker with a device', async () => {
    const options = { ...oneGpu(), device: 0, workers: 4 };
    const plan = await planNlsqFit(10_000_000, 2000, options);
    const thresholdBytes = Math.floor((24564 * MIB * 0.75) / 4);
    expect(plan.workers).toBe(4);
    expect(plan.thresholdBytes).toBe(thresholdBytes);
    expect(plan.decision.thresholdGb).toBe((24564 * MIB * 0.75) / GIB / 4);
    expect(plan).toEqual(
      planNlsqFitSync(10_000_000, 2000, { ...options, totalMemoryBytes: 24564 * MIB }),
    );
    expect(plan.decision.strategy).toBe('out_of_core');
    // The budget less the index array, over a row × the overhead: never more than fits in memory.
    expect(plan.chunkPoints).toBe(Math.floor((thresholdBytes - 10_000_000 * 8) / (2000 * 8 * 6.5)));
  });

  posix(
    'passes deviceTimeoutMs to the detection: a hung tool is a RangeError within it',
    async () => {
      const bin = makeBin({ 'nvidia-smi': 'sleep 30' });
      const probes = graphics([rtx4090()]);
      const started = performance.now();
      const error = await planNlsqFit(1000, 10, {
        device: 0,
        deviceTimeoutMs: 300,
        env: { PATH: bin },
        deviceProbes: probes,
      }).catch((e) => e);
      expect(performance.now() - started).toBeLessThan(300 + 2000);
      expect(error).toBeInstanceOf(RangeError);
      expect(error.message).toMatch(/no GPU is visible$/);
      // graphics() runs nvidia-smi itself, without a time budget: not asked after a hang.
      expect(probes.calls.graphics).toBe(0);
    },
  );

  posix('shares the cache of detectDeviceMemory, and refresh runs the tool again', async () => {
    const { bin, runs } = nvidiaSmi([gpuLine(0)]);
    const options = { device: 0, env: { PATH: bin }, deviceProbes: graphics(), ttlMs: 60_000 };
    await selectNlsqStrategy(1, 1, options);
    await planNlsqFit(1, 1, options);
    await getAdaptiveMemoryThreshold(options);
    expect(runs()).toBe(1);
    await getAdaptiveMemoryThreshold({ ...options, refresh: true });
    expect(runs()).toBe(2);
  });
});

describe('the synchronous functions with device', () => {
  const calls: [string, (options: ThresholdOptions) => unknown][] = [
    ['getAdaptiveMemoryThreshold', (options) => getAdaptiveMemoryThresholdSync(options)],
    ['selectNlsqStrategy', (options) => selectNlsqStrategySync(10, 2, options)],
    ['planNlsqFit', (options) => planNlsqFitSync(10, 2, options)],
  ];

  it.each(calls)('%sSync throws a TypeError naming the asynchronous function', (name, call) => {
    const probes = graphics([rtx4090()]);
    expect(() => call({ device: 0, env: { PATH: '' }, deviceProbes: probes })).toThrow(
      new TypeError(
        `Expected \`device\` not to be given to ${name}Sync without \`devices\`: a GPU's memory is read by running tools, asynchronously. Use ${name}, or give \`devices\` or \`totalMemoryBytes\``,
      ),
    );
    expect(probes.calls.graphics).toBe(0);
  });

  it.each(calls)('%sSync takes device with totalMemoryBytes as the budget', (_name, call) => {
    expect(() =>
      call({ device: 0, totalMemoryBytes: 8 * GIB, env: { [GPU_MEMORY_FRACTION_ENV_VAR]: '0.5' } }),
    ).not.toThrow();
    const { thresholdGb, info } = getAdaptiveMemoryThresholdSync({
      device: 0,
      totalMemoryBytes: 8 * GIB,
      env: { [GPU_MEMORY_FRACTION_ENV_VAR]: '0.5' },
    });
    expect(thresholdGb).toBe(4);
    expect(info.detectionMethod).toBe('override');
  });
});

describe('watchNlsqStrategy', () => {
  it('does not take device: it watches host memory', () => {
    expect(() => watchNlsqStrategy(10, 2, { device: 0 } as unknown as PlanWatchOptions)).toThrow(
      new TypeError(
        'Expected `device` not to be given to watchNlsqStrategy, which watches host memory, got 0: plan a GPU fit with planNlsqFit',
      ),
    );
    const signal = AbortSignal.abort();
    expect(() => watchNlsqStrategy(10, 2, { device: null, signal })).not.toThrow();
  });
});

describe('the device options', () => {
  const { bin, runs } = nvidiaSmi([gpuLine(0)]);
  const env = { PATH: bin };
  const takingDevice: [string, (options: unknown) => unknown][] = [
    ['getAdaptiveMemoryThreshold', (options) => getAdaptiveMemoryThreshold(options as never)],
    [
      'getAdaptiveMemoryThresholdSync',
      (options) => getAdaptiveMemoryThresholdSync(options as never),
    ],
    ['selectNlsqStrategy', (options) => selectNlsqStrategy(10, 2, options as never)],
    ['selectNlsqStrategySync', (options) => selectNlsqStrategySync(10, 2, options as never)],
    ['planNlsqFit', (options) => planNlsqFit(10, 2, options as never)],
    ['planNlsqFitSync', (options) => planNlsqFitSync(10, 2, options as never)],
  ];
  const bad: [string, Record<string, unknown>, ErrorConstructor, string][] = [
    [
      "device '0'",
      { device: '0' },
      TypeError,
      "Expected `device` to be a non-negative integer, got '0'",
    ],
    [
      'device -1',
      { device: -1 },
      RangeError,
      'Expected `device` to be a non-negative integer, got -1',
    ],
    [
      'device 1.5',
      { device: 1.5 },
      RangeError,
      'Expected `device` to be a non-negative integer, got 1.5',
    ],
    [
      'device NaN',
      { device: Number.NaN },
      RangeError,
      'Expected `device` to be a non-negative integer, got NaN',
    ],
    [
      'device true',
      { device: true },
      TypeError,
      'Expected `device` to be a non-negative integer, got true',
    ],
    [
      "deviceTimeoutMs '5000'",
      { device: 0, deviceTimeoutMs: '5000' },
      TypeError,
      "Expected `deviceTimeoutMs` to be a finite number > 0, got '5000'",
    ],
    [
      'deviceTimeoutMs 0',
      { device: 0, deviceTimeoutMs: 0 },
      RangeError,
      'Expected `deviceTimeoutMs` to be a finite number > 0, got 0',
    ],
    [
      'deviceTimeoutMs past 2 ** 31 - 1',
      { device: 0, deviceTimeoutMs: 2 ** 31 },
      RangeError,
      'Expected `deviceTimeoutMs` to be at most 2147483647 (2 ** 31 - 1), got 2147483648',
    ],
    [
      'deviceProbes 5',
      { device: 0, deviceProbes: 5 },
      TypeError,
      'Expected `deviceProbes` to be an object, got 5',
    ],
    [
      'deviceProbes []',
      { device: 0, deviceProbes: [] },
      TypeError,
      'Expected `deviceProbes` to be an object, got []',
    ],
    [
      'a deviceProbes loader that is not a function',
      { device: 0, deviceProbes: { loadSystemInformation: 'systeminformation' } },
      TypeError,
      "Expected `deviceProbes.loadSystemInformation` to be a function, got 'systeminformation'",
    ],
    [
      'a bad device option without device',
      { deviceTimeoutMs: -5 },
      RangeError,
      'Expected `deviceTimeoutMs` to be a finite number > 0, got -5',
    ],
    [
      'a bad host option with device',
      { device: 0, timeoutMs: 2 ** 31 },
      RangeError,
      'Expected `timeoutMs` to be at most 2147483647 (2 ** 31 - 1), got 2147483648',
    ],
    [
      'a bad basis with device',
      { device: 0, basis: 'free' },
      RangeError,
      "Expected `basis` to be 'total' or 'available', got 'free'",
    ],
  ];

  describe.each(takingDevice)('%s', (_name, call) => {
    it.each(bad)(
      'rejects %s with an error naming it, before any spawn',
      async (_kind, options, ErrorType, message) => {
        const probes = graphics();
        const host = probesWith(8 * GIB, 8 * GIB);
        let error: unknown;
        try {
          await call({ env, deviceProbes: probes, probes: host, ...options });
        } catch (caught) {
          error = caught;
        }
        expect(error).toBeInstanceOf(ErrorType);
        expect((error as Error).message).toBe(message);
        expect(runs()).toBe(0);
        expect(probes.calls.graphics).toBe(0);
        expect(host.calls).toEqual({ load: 0, mem: 0 });
      },
    );

    it('takes null device options as "not given": host memory', async () => {
      const fsRoot = makeTree({ 'proc/meminfo': meminfo(8 * GIB, 6 * GIB) });
      const result = await call({
        fsRoot,
        env,
        probes: probesWith(8 * GIB, 8 * GIB),
        device: null,
        deviceTimeoutMs: null,
        deviceProbes: null,
        memoryFraction: 0.5,
      });
      const { thresholdGb, decision } = result as {
        thresholdGb?: number;
        decision?: { thresholdGb: number };
      };
      expect(decision?.thresholdGb ?? thresholdGb).toBe(4);
      expect(runs()).toBe(0);
    });
  });

  posix('takes a deviceProbes object without a loader as the default', async () => {
    const threshold = await getAdaptiveMemoryThreshold({
      device: 0,
      env,
      deviceProbes: { loadSystemInformation: null },
    });
    expect(threshold.info.detectionMethod).toBe('nvidia-smi');
  });
});

describe('with a device list already read (`devices`)', () => {
  const devices = [
    {
      index: 0,
      uuid: null,
      name: 'NVIDIA GeForce RTX 4090',
      vendor: 'nvidia' as const,
      totalBytes: 24 * GIB,
      freeBytes: 12 * GIB,
      unifiedMemory: false,
      source: 'systeminformation' as const,
    },
  ];

  it('computes the threshold from it, synchronously, running no tool', () => {
    expect(getAdaptiveMemoryThresholdSync({ device: 0, devices, env: {} }).thresholdGb).toBe(18);
    expect(
      getAdaptiveMemoryThresholdSync({
        device: 0,
        devices,
        basis: 'available',
        memoryFraction: 0.5,
      }).info,
    ).toMatchObject({
      basis: 'available',
      totalMemoryGb: 12,
      detectionMethod: 'systeminformation',
    });
    expect(() => getAdaptiveMemoryThresholdSync({ device: 1, devices })).toThrow(RangeError);
    expect(() => getAdaptiveMemoryThresholdSync({ device: 0, devices: [] })).toThrow(
      /no GPU is visible$/,
    );
  });

  it('plans from it, sync and async alike', async () => {
    const options = { device: 0, devices, env: {}, workers: 2 };
    const plan = planNlsqFitSync(50_000_000, 53, options);
    expect(plan.thresholdBytes).toBe(9 * GIB);
    expect(await planNlsqFit(50_000_000, 53, options)).toEqual(plan);
  });

  it('checks the list', () => {
    expect(() =>
      getAdaptiveMemoryThresholdSync({ device: 0, devices: [{ index: -1 }] as never }),
    ).toThrow(/`devices\[0\]\.index`/);
    expect(() => getAdaptiveMemoryThresholdSync({ device: 0, devices: {} as never })).toThrow(
      TypeError,
    );
  });
});
