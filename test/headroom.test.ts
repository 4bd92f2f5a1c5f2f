import { describe, expect, it } from 'vitest';
import { detectMemory, detectMemorySync } from '../src/index.js';
import { GIB, MIB, makeTree, meminfo, memoryStat, mountLine, probesWith } from './helpers.js';

const HOST = 64 * GIB;
const v2 = `${mountLine(30, '/', '/sys/fs/cgroup', 'cgroup2', 'rw')}\n`;
const v1 = `${mountLine(35, '/', '/sys/fs/cgroup/memory', 'cgroup', 'rw,memory')}\n`;

function detect(fsRoot: string, env: Record<string, string> = {}) {
  return detectMemory({ fsRoot, env, probes: probesWith(HOST), refresh: true });
}

describe('available memory under limits', () => {
  it('is the headroom of a fuller ancestor, not of a roomier child', async () => {
    const job = 'system.slice/slurmstepd.scope/job_81';
    const fsRoot = makeTree({
      'proc/self/cgroup': `0::/${job}/step_0\n`,
      'proc/self/mountinfo': v2,
      'proc/meminfo': meminfo(HOST, 40 * GIB),
      [`sys/fs/cgroup/${job}/memory.max`]: `${8 * GIB}\n`,
      [`sys/fs/cgroup/${job}/memory.current`]: `${7.5 * GIB}\n`,
      [`sys/fs/cgroup/${job}/step_0/memory.max`]: `${6 * GIB}\n`,
      [`sys/fs/cgroup/${job}/step_0/memory.current`]: `${0.5 * GIB}\n`,
    });
    const report = await detect(fsRoot);
    expect(report).toMatchObject({ limitBytes: 6 * GIB, availableBytes: 0.5 * GIB });
    expect(detectMemorySync({ fsRoot, env: {}, probes: { totalmem: () => HOST } })).toMatchObject({
      availableBytes: 0.5 * GIB,
    });
  });

  it('subtracts inactive file pages at each level', async () => {
    const fsRoot = makeTree({
      'proc/self/cgroup': '0::/pod/ctr\n',
      'proc/self/mountinfo': v2,
      'sys/fs/cgroup/pod/memory.max': `${4 * GIB}\n`,
      'sys/fs/cgroup/pod/memory.current': `${3 * GIB}\n`,
      'sys/fs/cgroup/pod/memory.stat': memoryStat({ inactive_file: GIB }),
      'sys/fs/cgroup/pod/ctr/memory.high': `${3 * GIB}\n`,
      'sys/fs/cgroup/pod/ctr/memory.current': `${GIB}\n`,
    });
    expect(await detect(fsRoot)).toMatchObject({ limitBytes: 3 * GIB, availableBytes: 2 * GIB });
  });

  it('takes nothing off for an inactive_file past 2 ** 53: no such figure is exact', async () => {
    const fsRoot = makeTree({
      'proc/self/cgroup': '0::/pod\n',
      'proc/self/mountinfo': v2,
      'sys/fs/cgroup/pod/memory.max': `${4 * GIB}\n`,
      'sys/fs/cgroup/pod/memory.current': `${3 * GIB}\n`,
      'sys/fs/cgroup/pod/memory.stat': 'anon 0\ninactive_file 18446744073709551615\n',
    });
    expect(await detect(fsRoot)).toMatchObject({ limitBytes: 4 * GIB, availableBytes: GIB });
  });

  it('keeps the fuller cgroup in view when a Slurm figure is the smallest limit', async () => {
    const fsRoot = makeTree({
      'proc/self/cgroup': '0::/slurm/job_12\n',
      'proc/self/mountinfo': v2,
      'proc/meminfo': meminfo(HOST, 40 * GIB),
      'sys/fs/cgroup/slurm/job_12/memory.max': `${8 * GIB}\n`,
      'sys/fs/cgroup/slurm/job_12/memory.current': `${Math.round(7.9 * GIB)}\n`,
    });
    const report = await detect(fsRoot, { SLURM_MEM_PER_NODE: '8000' });
    expect(report).toMatchObject({ limitBytes: 8000 * MIB, limitSource: 'slurm' });
    expect(report?.availableBytes).toBeCloseTo(0.1 * GIB, -3);
  });

  it('reads v1 usage at every limited level', async () => {
    const fsRoot = makeTree({
      'proc/self/cgroup': '4:memory:/batch/task\n',
      'proc/self/mountinfo': v1,
      'sys/fs/cgroup/memory/batch/memory.limit_in_bytes': `${10 * GIB}\n`,
      'sys/fs/cgroup/memory/batch/memory.usage_in_bytes': `${9 * GIB}\n`,
      'sys/fs/cgroup/memory/batch/memory.stat': memoryStat({ total_inactive_file: 0 }),
      'sys/fs/cgroup/memory/batch/task/memory.limit_in_bytes': `${5 * GIB}\n`,
      'sys/fs/cgroup/memory/batch/task/memory.usage_in_bytes': `${GIB}\n`,
    });
    expect(await detect(fsRoot)).toMatchObject({ limitBytes: 5 * GIB, availableBytes: GIB });
  });
});
