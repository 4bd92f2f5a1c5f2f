import { describe, expect, it } from 'vitest';
import {
  detectMemory,
  detectMemorySync,
  detectTotalSystemMemory,
  getAdaptiveMemoryThreshold,
  getAdaptiveMemoryThresholdSync,
  selectNlsqStrategy,
} from '../src/index.js';
import { captureWarnings, GIB, makeTree, mountLine, probesWith } from './helpers.js';

const env = {};
const limitedJob = () =>
  makeTree({
    'proc/self/cgroup': '0::/job\n',
    'proc/self/mountinfo': `${mountLine(30, '/', '/sys/fs/cgroup', 'cgroup2', 'rw')}\n`,
    'sys/fs/cgroup/job/memory.max': `${2 * GIB}\n`,
  });

describe('host RAM unreadable', () => {
  it('takes a readable limit as the total, never the 16 GB fallback', async () => {
    const warnings = captureWarnings();
    const fsRoot = limitedJob();
    const probes = probesWith(0, 0);
    const expected = {
      hostTotalBytes: null,
      detectionMethod: null,
      limitBytes: 2 * GIB,
      limitSource: 'cgroup-v2',
      totalBytes: 2 * GIB,
    };
    expect(await detectMemory({ fsRoot, env, probes, refresh: true })).toMatchObject(expected);
    expect(detectMemorySync({ fsRoot, env, probes, refresh: true })).toMatchObject(expected);
    expect(await detectTotalSystemMemory({ fsRoot, env, probes })).toBe(2 * GIB);
    const threshold = await getAdaptiveMemoryThreshold({ fsRoot, env, probes });
    expect(threshold).toMatchObject({
      thresholdGb: 1.5,
      info: { totalMemoryGb: 2, detectionMethod: null, limitSource: 'cgroup-v2' },
    });
    expect(getAdaptiveMemoryThresholdSync({ fsRoot, env, probes }).thresholdGb).toBe(1.5);
    const decision = await selectNlsqStrategy(23_000_000, 9, { fsRoot, env, probes });
    expect(decision.strategy).toBe('out_of_core');
    // No fallback, no failure: only the advice that a 4 GiB heap does not fit 2 GiB.
    expect(warnings).toEqual([
      {
        code: 'NLSQ_MEMORY_HEAP_ABOVE_LIMIT',
        message:
          'The V8 heap may grow to 4.00 GB, above the 2.00 GB this process may use: start node with --max-old-space-size=512',
      },
    ]);
  });

  it('takes a Slurm allocation as the total', async () => {
    const report = await detectMemory({
      fsRoot: makeTree({}),
      env: { SLURM_MEM_PER_NODE: '4096' },
      probes: probesWith(0, 0),
      refresh: true,
    });
    expect(report).toMatchObject({ hostTotalBytes: null, totalBytes: 4 * GIB });
  });

  it('takes no Slurm figure past 2 ** 53 bytes as the total', async () => {
    const report = await detectMemory({
      fsRoot: makeTree({}),
      env: { SLURM_MEM_PER_NODE: '99999999999999' },
      probes: probesWith(0, 0),
      refresh: true,
    });
    expect(report).toBeNull();
  });

  it('is null only when no limit is known either', async () => {
    const probes = probesWith(0, 0);
    expect(await detectMemory({ fsRoot: makeTree({}), env, probes, refresh: true })).toBeNull();
  });
});
