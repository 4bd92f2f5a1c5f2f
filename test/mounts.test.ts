import { describe, expect, it } from 'vitest';
import { detectMemory, detectMemorySync } from '../src/index.js';
import { GIB, MIB, makeTree, mountLine, probesWith } from './helpers.js';

const HOST = 64 * GIB;
const env = {};

/** Detects on a fake tree with 64 GiB of host RAM; sync and async must agree. */
async function detect(fsRoot: string) {
  const options = { fsRoot, env, probes: probesWith(HOST, HOST), refresh: true };
  const report = await detectMemory(options);
  const sync = detectMemorySync(options);
  expect(sync?.limitBytes).toBe(report?.limitBytes);
  expect(sync?.limitOrigin).toBe(report?.limitOrigin);
  return report;
}

const slash = (path: string | null | undefined) => path?.replaceAll('\\', '/');

/** Both orders of the same mountinfo lines. */
const bothOrders = (lines: string[]) => [lines, [...lines].reverse()];

describe('the mount that locates the cgroup', () => {
  const pod = '/kubepods/burstable/pod7c1e';
  const container = `${pod}/ctr-9a0b`;
  // A cgroup2 mount of the pod's subtree, and the whole hierarchy at /sys/fs/cgroup.
  const subtree = mountLine(40, pod, '/run/pod-cgroup', 'cgroup2', 'rw');
  const whole = mountLine(30, '/', '/sys/fs/cgroup', 'cgroup2', 'rw');
  const files = {
    'proc/self/cgroup': `0::${container}\n`,
    'sys/fs/cgroup/kubepods/memory.max': `${4 * GIB}\n`,
    'run/pod-cgroup/ctr-9a0b/memory.max': 'max\n',
    [`sys/fs/cgroup${container}/memory.max`]: 'max\n',
  };

  it.each(bothOrders([subtree, whole]))(
    'is the one that shows the most ancestors, whatever the line order (%#)',
    async (...lines) => {
      const report = await detect(
        makeTree({ ...files, 'proc/self/mountinfo': `${lines.join('\n')}\n` }),
      );
      expect(report).toMatchObject({ limitBytes: 4 * GIB, limitSource: 'cgroup-v2' });
      expect(slash(report?.limitOrigin)).toMatch(/\/sys\/fs\/cgroup\/kubepods\/memory\.max$/);
    },
  );

  it.each(
    bothOrders([
      mountLine(50, '/../..', '/outside', 'cgroup2', 'rw'),
      mountLine(30, '/', '/sys/fs/cgroup', 'cgroup2', 'rw'),
    ]),
  )('is never one whose root lies outside the cgroup namespace (%#)', async (...lines) => {
    const scope = '/user.slice/user-1000.slice/session-3.scope';
    const report = await detect(
      makeTree({
        'proc/self/cgroup': `0::${scope}\n`,
        'proc/self/mountinfo': `${lines.join('\n')}\n`,
        // What a reader that took /../.. for / would find: a foreign directory.
        [`outside${scope}/memory.max`]: `${GIB}\n`,
        [`sys/fs/cgroup${scope}/memory.max`]: `${2250 * MIB}\n`,
      }),
    );
    expect(report).toMatchObject({ limitBytes: 2250 * MIB, limitSource: 'cgroup-v2' });
  });

  it('is none when only an outside-namespace mount exists', async () => {
    const report = await detect(
      makeTree({
        'proc/self/cgroup': '0::/job\n',
        'proc/self/mountinfo': `${mountLine(50, '/..', '/outside', 'cgroup2', 'rw')}\n`,
        'outside/job/memory.max': `${GIB}\n`,
      }),
    );
    expect(report).toMatchObject({ limitBytes: null, totalBytes: HOST });
  });

  it.each(
    bothOrders([
      mountLine(60, '/', '/memory', 'cgroup', 'rw,memory'),
      mountLine(35, '/', '/sys/fs/cgroup/memory', 'cgroup', 'rw,memory'),
    ]),
  )('prefers /sys/fs/cgroup between two mounts of one v1 hierarchy (%#)', async (...lines) => {
    const report = await detect(
      makeTree({
        'proc/self/cgroup': '2:memory:/app\n',
        'proc/self/mountinfo': `${lines.join('\n')}\n`,
        'memory/app/memory.limit_in_bytes': `${GIB}\n`,
        'sys/fs/cgroup/memory/app/memory.limit_in_bytes': `${3 * GIB}\n`,
      }),
    );
    expect(report).toMatchObject({ limitBytes: 3 * GIB, limitSource: 'cgroup-v1' });
  });
});

describe('hierarchies seen in the wild', () => {
  it('reads memory co-mounted with other controllers in one v1 hierarchy', async () => {
    const report = await detect(
      makeTree({
        'proc/self/cgroup': '3:cpu,memory,cpuacct:/batch/worker-2\n1:name=systemd:/\n',
        'proc/self/mountinfo': `${mountLine(
          33,
          '/',
          '/sys/fs/cgroup/cpu,memory,cpuacct',
          'cgroup',
          'rw,cpu,memory,cpuacct',
        )}\n`,
        'sys/fs/cgroup/cpu,memory,cpuacct/batch/memory.limit_in_bytes': `${1700 * MIB}\n`,
      }),
    );
    expect(report).toMatchObject({ limitBytes: 1700 * MIB, limitSource: 'cgroup-v1' });
  });

  it('finds no limit where only the systemd named hierarchy is mounted', async () => {
    const report = await detect(
      makeTree({
        'proc/self/cgroup': '1:name=systemd:/user.slice/user-1000.slice/session-2.scope\n',
        'proc/self/mountinfo': `${mountLine(25, '/', '/sys/fs/cgroup/systemd', 'cgroup', 'rw,xattr,name=systemd')}\n`,
        'sys/fs/cgroup/systemd/user.slice/memory.limit_in_bytes': `${GIB}\n`,
      }),
    );
    expect(report).toMatchObject({ limitBytes: null, limitSource: null, totalBytes: HOST });
  });

  it('reads a Kubernetes path with colons below a mount point with a space', async () => {
    const path = '/kubepods.slice/cri-containerd:sandbox:5e1f.scope';
    const report = await detect(
      makeTree({
        'proc/self/cgroup': `0::${path}\n`,
        'proc/self/mountinfo': `${mountLine(30, '/', '/sys/fs/cgroup\\040v2', 'cgroup2', 'rw')}\n`,
        [`sys/fs/cgroup v2${path}/memory.max`]: `${5 * GIB}\n`,
      }),
    );
    expect(report).toMatchObject({ limitBytes: 5 * GIB, limitSource: 'cgroup-v2' });
  });
});
