import os from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HostProbes } from '../src/index.js';
import {
  detectMemory,
  detectMemorySync,
  detectTotalSystemMemory,
  FALLBACK_THRESHOLD_GB,
  getAdaptiveMemoryThreshold,
  getAdaptiveMemoryThresholdSync,
} from '../src/index.js';
import { captureWarnings, GIB, makeTree, probesWith } from './helpers.js';

// An empty tree: no cgroup, no Slurm, so host RAM alone decides.
const fsRoot = makeTree({ 'proc/meminfo': 'MemTotal: 1 kB\n' });
const env = {};
const hang = new Promise<never>(() => {});

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe('host RAM', () => {
  it('comes from systeminformation when it answers', async () => {
    const probes = probesWith(32 * GIB, 8 * GIB);
    const report = await detectMemory({ fsRoot, env, probes });
    expect(report).toMatchObject({
      hostTotalBytes: 32 * GIB,
      detectionMethod: 'systeminformation',
      totalBytes: 32 * GIB,
    });
    expect(probes.calls).toEqual({ load: 1, mem: 1 });
  });

  const failing: [string, HostProbes][] = [
    [
      'the import throws',
      { loadSystemInformation: () => Promise.reject(new Error('Cannot find module')) },
    ],
    [
      'the loader throws synchronously',
      {
        loadSystemInformation: () => {
          throw new Error('boom');
        },
      },
    ],
    [
      'mem() throws',
      {
        loadSystemInformation: async () => ({
          mem: () => {
            throw new Error('boom');
          },
        }),
      },
    ],
    [
      'mem() rejects',
      { loadSystemInformation: async () => ({ mem: () => Promise.reject(new Error('EPERM')) }) },
    ],
    ['mem() resolves null', { loadSystemInformation: async () => ({ mem: async () => null }) }],
    ['total is 0', probesWith(0)],
    ['total is NaN', probesWith(Number.NaN)],
    ['total is Infinity', probesWith(Number.POSITIVE_INFINITY)],
    ['total is negative', probesWith(-1)],
    ['total is a string', probesWith('34359738368')],
    ['total is null', probesWith(null)],
  ];

  it.each(failing)('falls back to os.totalmem() when %s', async (_, probes) => {
    const report = await detectMemory({
      fsRoot,
      env,
      probes: { ...probes, totalmem: () => 12 * GIB },
    });
    expect(report).toMatchObject({
      hostTotalBytes: 12 * GIB,
      detectionMethod: 'os',
      totalBytes: 12 * GIB,
    });
  });

  it('falls back after the time budget when systeminformation hangs, and leaves no timer behind', async () => {
    vi.useFakeTimers();
    const probes: HostProbes = {
      loadSystemInformation: async () => ({ mem: () => hang }),
      totalmem: () => 12 * GIB,
    };
    const pending = detectMemory({ fsRoot, env, probes, timeoutMs: 250 });
    await vi.advanceTimersByTimeAsync(249);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(await pending).toMatchObject({ detectionMethod: 'os', hostTotalBytes: 12 * GIB });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('clears its timer as soon as systeminformation answers', async () => {
    vi.useFakeTimers();
    await detectMemory({ fsRoot, env, probes: probesWith(4 * GIB), timeoutMs: 60_000 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('resolves null, and the threshold falls back to 16 GB with a warning, when every source fails', async () => {
    const warnings = captureWarnings();
    const probes = probesWith(0, Number.NaN);
    expect(await detectMemory({ fsRoot, env, probes })).toBeNull();
    expect(await detectTotalSystemMemory({ fsRoot, env, probes })).toBeNull();
    const { thresholdGb, thresholdBytes, info } = await getAdaptiveMemoryThreshold({
      fsRoot,
      env,
      probes,
    });
    expect(thresholdGb).toBe(FALLBACK_THRESHOLD_GB);
    expect(thresholdBytes).toBe(16 * GIB);
    expect(info).toMatchObject({
      detectionMethod: 'fallback',
      totalMemoryGb: 0,
      limitSource: null,
    });
    await getAdaptiveMemoryThreshold({ fsRoot, env, probes });
    expect(warnings).toEqual([
      {
        code: 'NLSQ_MEMORY_DETECTION_FAILED',
        message: 'Could not detect system memory. Using fallback threshold of 16 GB',
      },
    ]);
  });

  it('never throws when os.totalmem() throws', () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const probes: HostProbes = {
      totalmem: () => {
        throw new Error('uv_get_total_memory');
      },
    };
    expect(detectMemorySync({ fsRoot, env, probes })).toBeNull();
    expect(getAdaptiveMemoryThresholdSync({ fsRoot, env, probes }).info.detectionMethod).toBe(
      'fallback',
    );
  });

  it('reads os.totalmem() synchronously', () => {
    const report = detectMemorySync({ fsRoot, env, probes: { totalmem: () => 6 * GIB } });
    expect(report).toMatchObject({
      hostTotalBytes: 6 * GIB,
      detectionMethod: 'os',
      limitBytes: null,
      availableBytes: null,
    });
  });

  it('gives totalBytes from detectTotalSystemMemory', async () => {
    expect(await detectTotalSystemMemory({ fsRoot, env, probes: probesWith(3 * GIB) })).toBe(
      3 * GIB,
    );
  });
});

describe('on this machine', () => {
  it('reads the real RAM with the real systeminformation on the real /proc', async () => {
    const report = await detectMemory({ refresh: true, timeoutMs: 30_000 });
    expect(report).not.toBeNull();
    expect(report?.detectionMethod).toBe('systeminformation');
    // systeminformation and Node read the same kernel figure (MemTotal on Linux, hw.memsize on macOS).
    expect(report?.hostTotalBytes).toBe(os.totalmem());
    expect(report?.totalBytes).toBeLessThanOrEqual(os.totalmem());
    expect(report?.availableBytes).toBeGreaterThan(0);
  });

  it('gives a positive finite threshold from the real machine, never NaN', async () => {
    const { thresholdGb, thresholdBytes } = await getAdaptiveMemoryThreshold();
    expect(Number.isFinite(thresholdGb) && thresholdGb > 0).toBe(true);
    expect(thresholdBytes).toBeCloseTo(thresholdGb * GIB, 0);
    expect(Number.isFinite(getAdaptiveMemoryThresholdSync().thresholdGb)).toBe(true);
  });
});
