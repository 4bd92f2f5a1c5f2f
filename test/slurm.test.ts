import { describe, expect, it } from 'vitest';
import { detectMemory, getAdaptiveMemoryThreshold } from '../src/index.js';
import { GIB, MIB, makeTree, mountLine, probesWith } from './helpers.js';

const HOST = 256 * GIB;
const empty = makeTree({});
const cgroupAt = (bytes: number) =>
  makeTree({
    'proc/self/cgroup': '0::/slurm/job_7\n',
    'proc/self/mountinfo': `${mountLine(30, '/', '/sys/fs/cgroup', 'cgroup2', 'rw')}\n`,
    'sys/fs/cgroup/slurm/job_7/memory.max': `${bytes}\n`,
  });

function detect(env: Record<string, string>, fsRoot = empty) {
  return detectMemory({ fsRoot, env, probes: probesWith(HOST), refresh: true });
}

describe('Slurm', () => {
  it('caps memory at SLURM_MEM_PER_NODE (MiB)', async () => {
    expect(await detect({ SLURM_MEM_PER_NODE: '32000' })).toMatchObject({
      limitBytes: 32000 * MIB,
      limitSource: 'slurm',
      limitOrigin: 'SLURM_MEM_PER_NODE',
      totalBytes: 32000 * MIB,
    });
  });

  it('caps memory at SLURM_MEM_PER_CPU × SLURM_CPUS_ON_NODE', async () => {
    expect(await detect({ SLURM_MEM_PER_CPU: '4000', SLURM_CPUS_ON_NODE: '8' })).toMatchObject({
      limitBytes: 32000 * MIB,
      limitSource: 'slurm',
      limitOrigin: 'SLURM_MEM_PER_CPU*SLURM_CPUS_ON_NODE',
    });
  });

  it('caps memory at SLURM_MEM_PER_GPU × SLURM_GPUS_ON_NODE', async () => {
    expect(await detect({ SLURM_MEM_PER_GPU: '20000', SLURM_GPUS_ON_NODE: '2' })).toMatchObject({
      limitBytes: 40000 * MIB,
      limitSource: 'slurm',
      limitOrigin: 'SLURM_MEM_PER_GPU*SLURM_GPUS_ON_NODE',
    });
  });

  it('prefers SLURM_MEM_PER_NODE to the per-CPU figure', async () => {
    const env = { SLURM_MEM_PER_NODE: '1024', SLURM_MEM_PER_CPU: '4000', SLURM_CPUS_ON_NODE: '8' };
    expect(await detect(env)).toMatchObject({ limitBytes: GIB, limitOrigin: 'SLURM_MEM_PER_NODE' });
  });

  it('reads 0 as all the node memory: no limit', async () => {
    expect(await detect({ SLURM_MEM_PER_NODE: '0' })).toMatchObject({
      limitBytes: null,
      totalBytes: HOST,
    });
  });

  it('ignores an allocation at or above host RAM', async () => {
    expect(await detect({ SLURM_MEM_PER_NODE: String(HOST / MIB) })).toMatchObject({
      limitBytes: null,
    });
  });

  it.each([
    [{ SLURM_MEM_PER_NODE: '32G' }],
    [{ SLURM_MEM_PER_NODE: '' }],
    [{ SLURM_MEM_PER_NODE: '-5' }],
    [{ SLURM_MEM_PER_NODE: '1.5' }],
    [{ SLURM_MEM_PER_NODE: '0x10' }],
    [{ SLURM_MEM_PER_CPU: '4000' }],
    [{ SLURM_MEM_PER_CPU: '4000', SLURM_CPUS_ON_NODE: 'eight' }],
    [{ SLURM_MEM_PER_CPU: 'lots', SLURM_CPUS_ON_NODE: '8' }],
    [{ SLURM_MEM_PER_GPU: '20000' }],
    [{ SLURM_MEM_PER_GPU: '20000', SLURM_GPUS_ON_NODE: 'a100:2' }],
  ])('ignores garbage: %o', async (env) => {
    expect(await detect(env)).toMatchObject({
      limitBytes: null,
      limitSource: null,
      totalBytes: HOST,
    });
  });

  it('falls back to the per-CPU figure when SLURM_MEM_PER_NODE is garbage', async () => {
    const env = { SLURM_MEM_PER_NODE: 'x', SLURM_MEM_PER_CPU: '1024', SLURM_CPUS_ON_NODE: '2' };
    expect(await detect(env)).toMatchObject({ limitBytes: 2 * GIB, limitSource: 'slurm' });
  });

  it('wins when tighter than the cgroup limit', async () => {
    expect(await detect({ SLURM_MEM_PER_NODE: '8192' }, cgroupAt(16 * GIB))).toMatchObject({
      limitBytes: 8 * GIB,
      limitSource: 'slurm',
    });
  });

  it('loses when looser than the cgroup limit', async () => {
    expect(await detect({ SLURM_MEM_PER_NODE: '32768' }, cgroupAt(16 * GIB))).toMatchObject({
      limitBytes: 16 * GIB,
      limitSource: 'cgroup-v2',
    });
  });

  it('leaves the equal cgroup limit in charge, since it also tells usage', async () => {
    expect(await detect({ SLURM_MEM_PER_NODE: '16384' }, cgroupAt(16 * GIB))).toMatchObject({
      limitSource: 'cgroup-v2',
    });
  });

  it('sets the threshold: 75% of the job allocation', async () => {
    const { thresholdGb, info } = await getAdaptiveMemoryThreshold({
      fsRoot: empty,
      env: { SLURM_MEM_PER_NODE: '65536' },
      probes: probesWith(HOST),
      refresh: true,
    });
    expect(thresholdGb).toBe(48);
    expect(info).toMatchObject({
      totalMemoryGb: 64,
      limitSource: 'slurm',
      detectionMethod: 'systeminformation',
    });
  });
});
