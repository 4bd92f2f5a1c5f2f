// Unified memory: a GB10 (DGX Spark) prints [N/A] for memory.total, since its GPU allocates from
// the host's memory. It is listed, and a budget on it is the host's.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type DeviceMemory,
  detectDeviceMemory,
  getAdaptiveMemoryThreshold,
  getAdaptiveMemoryThresholdSync,
  type MemoryReport,
  planNlsqFit,
  planNlsqFitSync,
} from '../src/index.js';
import { findDevice } from '../src/policy/device.js';
import { run } from './cliRun.js';
import { GB10, nvidiaMachine } from './gpuFixtures.js';
import {
  captureWarnings,
  GIB,
  graphicsProbes,
  makeTree,
  meminfo,
  mountLine,
  probesWith,
} from './helpers.js';

const posix = it.skipIf(process.platform === 'win32');

const GB10_DEVICE: DeviceMemory = {
  index: 0,
  uuid: GB10[0]?.uuid ?? null,
  name: 'NVIDIA GB10',
  vendor: 'nvidia',
  totalBytes: null,
  freeBytes: null,
  unifiedMemory: true,
  source: 'nvidia-smi',
};

/** A host report: 128 GiB, 100 GiB available, no limit. */
const HOST: MemoryReport = {
  hostTotalBytes: 128 * GIB,
  detectionMethod: 'systeminformation',
  limitBytes: null,
  limitSource: null,
  limitOrigin: null,
  totalBytes: 128 * GIB,
  availableBytes: 100 * GIB,
  heapLimitBytes: 4 * GIB,
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a GB10', () => {
  posix('is listed with totalBytes null and unifiedMemory true', async () => {
    const { bin } = nvidiaMachine(GB10);
    expect(await detectDeviceMemory({ env: { PATH: bin }, probes: graphicsProbes() })).toEqual([
      GB10_DEVICE,
    ]);
  });

  it('is budgeted from the host report given, with a warning', () => {
    const warnings = captureWarnings();
    const options = { device: 0, devices: [GB10_DEVICE], report: HOST };
    expect(getAdaptiveMemoryThresholdSync(options)).toEqual({
      thresholdGb: 96,
      thresholdBytes: 96 * GIB,
      info: {
        totalMemoryGb: 128,
        memoryFraction: 0.75,
        source: 'default',
        detectionMethod: 'systeminformation',
        limitSource: null,
        basis: 'total',
      },
    });
    expect(getAdaptiveMemoryThresholdSync({ ...options, basis: 'available' }).thresholdGb).toBe(75);
    expect(warnings).toEqual([
      {
        code: 'NLSQ_MEMORY_DEVICE_UNIFIED',
        message:
          "GPU 0 (NVIDIA GB10) shares the host's memory: its budget is the host's, limits included",
      },
    ]);
  });

  posix("detects the host's memory, limits included, when no report is given", async () => {
    captureWarnings();
    const { bin } = nvidiaMachine(GB10);
    // A 128 GiB host in a cgroup v2 limited to 32 GiB.
    const fsRoot = makeTree({
      'proc/meminfo': meminfo(128 * GIB, 120 * GIB),
      'proc/self/cgroup': '0::/job\n',
      'proc/self/mountinfo': `${mountLine(30, '/', '/sys/fs/cgroup', 'cgroup2', 'rw')}\n`,
      'sys/fs/cgroup/job/memory.max': `${32 * GIB}\n`,
    });
    const options = {
      device: 0,
      env: { PATH: bin, NLSQ_GPU_MEMORY_FRACTION: '0.5' },
      deviceProbes: graphicsProbes(),
      fsRoot,
      probes: probesWith(128 * GIB),
    };
    const { thresholdGb, info } = await getAdaptiveMemoryThreshold(options);
    expect(thresholdGb).toBe(16);
    expect(info).toMatchObject({ limitSource: 'cgroup-v2', source: 'env' });
    const devices = await detectDeviceMemory({ env: options.env, probes: graphicsProbes() });
    expect(getAdaptiveMemoryThresholdSync({ ...options, devices }).thresholdGb).toBe(16);
    // Workers share it as they share host memory.
    const plan = await planNlsqFit(1_000_000, 10, { ...options, workers: 4 });
    expect(plan.thresholdBytes).toBe(4 * GIB);
  });

  it('takes a report given to the asynchronous functions, and workers divide it', async () => {
    captureWarnings();
    const options = { device: 0, devices: [GB10_DEVICE], report: HOST, workers: 2 };
    const plan = planNlsqFitSync(1_000_000, 10, options);
    expect(plan.thresholdBytes).toBe(48 * GIB);
    expect(await planNlsqFit(1_000_000, 10, options)).toEqual(plan);
  });

  it('is named by its memory in the list of visible devices', () => {
    expect(() => findDevice([GB10_DEVICE], 1)).toThrow(
      'got 1; visible: 0 (NVIDIA GB10, host memory)',
    );
  });

  it('may come in a given list without unifiedMemory only with a total', () => {
    const { unifiedMemory: _, ...old } = GB10_DEVICE;
    expect(() => getAdaptiveMemoryThresholdSync({ device: 0, devices: [old as never] })).toThrow(
      'Expected `devices[0].totalBytes` to be a non-negative integer, got null',
    );
    expect(() =>
      getAdaptiveMemoryThresholdSync({
        device: 0,
        devices: [{ ...GB10_DEVICE, unifiedMemory: 'yes' } as never],
      }),
    ).toThrow('Expected `devices[0].unifiedMemory` to be a boolean');
  });

  posix('is shown by the command, which budgets the host for --device 0', async () => {
    const { bin } = nvidiaMachine(GB10);
    const { code, stdout, stderr } = await run(['--device', '0'], { env: { PATH: bin } });
    expect(code).toBe(0);
    expect(stdout).toContain('\nGPU 0          NVIDIA GB10: unified memory (nvidia-smi)\n');
    expect(stdout).toContain('Threshold      12.00 GB (75% of 16.00 GB total');
    expect(stderr).toBe('');
  });
});
