import { describe, expect, it } from 'vitest';
import { detectMemory, detectMemorySync, getAdaptiveMemoryThreshold } from '../src/index.js';
import { GIB, MIB, makeTree, meminfo, memoryStat, mountLine, probesWith } from './helpers.js';

const HOST = 64 * GIB;
const env = {};
const v2Mount = mountLine(
  30,
  '/',
  '/sys/fs/cgroup',
  'cgroup2',
  'rw,nsdelegate,memory_recursiveprot',
);
const v1Mount = (root = '/') => mountLine(35, root, '/sys/fs/cgroup/memory', 'cgroup', 'rw,memory');
const otherMounts = [
  mountLine(20, '/', '/', 'overlay', 'rw,lowerdir=/a,upperdir=/b'),
  mountLine(21, '/', '/proc', 'proc', 'rw'),
  mountLine(32, '/', '/sys/fs/cgroup/cpu,cpuacct', 'cgroup', 'rw,cpu,cpuacct'),
];
const mountinfo = (...lines: string[]) => `${[...otherMounts, ...lines].join('\n')}\n`;

/** Detects on a fake tree, with 64 GiB of host RAM from a fake systeminformation. */
function detect(fsRoot: string, options: { env?: Record<string, string> } = {}) {
  return detectMemory({ fsRoot, env, ...options, probes: probesWith(HOST), refresh: true });
}

describe('cgroup v2', () => {
  it('reads the limit of a pod with its own cgroup namespace at the mount point', async () => {
    const fsRoot = makeTree({
      'proc/self/cgroup': '0::/\n',
      'proc/self/mountinfo': mountinfo(v2Mount),
      'proc/meminfo': meminfo(HOST, 40 * GIB),
      'sys/fs/cgroup/cgroup.controllers': 'cpuset cpu io memory hugetlb pids rdma misc\n',
      'sys/fs/cgroup/memory.max': `${8 * GIB}\n`,
      'sys/fs/cgroup/memory.high': 'max\n',
      'sys/fs/cgroup/memory.current': `${3 * GIB}\n`,
      'sys/fs/cgroup/memory.stat': memoryStat({
        anon: 2 * GIB,
        file: GIB,
        active_file: GIB / 2,
        inactive_file: GIB,
      }),
    });
    const report = await detect(fsRoot);
    expect(report).toMatchObject({
      hostTotalBytes: HOST,
      detectionMethod: 'systeminformation',
      limitBytes: 8 * GIB,
      limitSource: 'cgroup-v2',
      totalBytes: 8 * GIB,
      availableBytes: 6 * GIB,
    });
    expect(report?.limitOrigin?.replaceAll('\\', '/')).toMatch(/\/sys\/fs\/cgroup\/memory\.max$/);
  });

  it('finds the limit on the pod slice above a process deep below it', async () => {
    const pod = 'kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1a2b.slice';
    const container = `${pod}/cri-containerd-0f9e8d.scope`;
    const fsRoot = makeTree({
      'proc/self/cgroup': `0::/${container}\n`,
      'proc/self/mountinfo': mountinfo(v2Mount),
      'sys/fs/cgroup/cgroup.controllers': 'cpu memory pids\n',
      'sys/fs/cgroup/kubepods.slice/memory.max': `${48 * GIB}\n`,
      [`sys/fs/cgroup/${pod}/memory.max`]: `${4 * GIB}\n`,
      [`sys/fs/cgroup/${pod}/memory.current`]: `${GIB}\n`,
      [`sys/fs/cgroup/${container}/memory.max`]: 'max\n',
      [`sys/fs/cgroup/${container}/memory.high`]: 'max\n',
    });
    const report = await detect(fsRoot);
    expect(report).toMatchObject({
      limitBytes: 4 * GIB,
      limitSource: 'cgroup-v2',
      totalBytes: 4 * GIB,
      availableBytes: 3 * GIB,
    });
    expect(report?.limitOrigin?.replaceAll('\\', '/')).toContain(`${pod}/memory.max`);
  });

  it('takes memory.high when it is below memory.max', async () => {
    const fsRoot = makeTree({
      'proc/self/cgroup': '0::/job\n',
      'proc/self/mountinfo': mountinfo(v2Mount),
      'sys/fs/cgroup/job/memory.max': `${16 * GIB}\n`,
      'sys/fs/cgroup/job/memory.high': `${12 * GIB}\n`,
      'sys/fs/cgroup/job/memory.low': `${GIB}\n`,
      'sys/fs/cgroup/job/memory.min': `${GIB}\n`,
    });
    const report = await detect(fsRoot);
    expect(report).toMatchObject({ limitBytes: 12 * GIB, totalBytes: 12 * GIB });
    expect(report?.limitOrigin).toMatch(/memory\.high$/);
  });

  it('ignores floors: memory.low and memory.min alone are no limit', async () => {
    const fsRoot = makeTree({
      'proc/self/cgroup': '0::/job\n',
      'proc/self/mountinfo': mountinfo(v2Mount),
      'sys/fs/cgroup/job/memory.low': `${GIB}\n`,
      'sys/fs/cgroup/job/memory.min': `${GIB}\n`,
    });
    expect(await detect(fsRoot)).toMatchObject({
      limitBytes: null,
      limitSource: null,
      totalBytes: HOST,
    });
  });

  it('reads a cgroup directory with a space in its mount point', async () => {
    const fsRoot = makeTree({
      'proc/self/cgroup': '0::/\n',
      'proc/self/mountinfo': mountinfo(
        mountLine(30, '/', '/sys/fs/my\\040cgroup', 'cgroup2', 'rw'),
      ),
      'sys/fs/my cgroup/memory.max': `${2 * GIB}\n`,
    });
    expect(await detect(fsRoot)).toMatchObject({ limitBytes: 2 * GIB });
  });
});

describe('cgroup v1', () => {
  it('reads a Docker container whose mount root is its own cgroup', async () => {
    const id = '/docker/4f1a9c2e7b';
    const fsRoot = makeTree({
      'proc/self/cgroup': `12:pids:${id}\n4:memory:${id}\n3:cpu,cpuacct:${id}\n1:name=systemd:${id}\n`,
      'proc/self/mountinfo': mountinfo(v1Mount(id)),
      'sys/fs/cgroup/memory/memory.limit_in_bytes': `${2 * GIB}\n`,
      'sys/fs/cgroup/memory/memory.usage_in_bytes': `${GIB}\n`,
      'sys/fs/cgroup/memory/memory.stat': memoryStat({
        cache: GIB / 2,
        hierarchical_memory_limit: 2 * GIB,
        total_inactive_file: GIB / 4,
      }),
    });
    const report = await detect(fsRoot);
    expect(report).toMatchObject({
      limitBytes: 2 * GIB,
      limitSource: 'cgroup-v1',
      totalBytes: 2 * GIB,
      availableBytes: 1.25 * GIB,
    });
    expect(report?.limitOrigin).toMatch(/memory\.limit_in_bytes$/);
  });

  it('reads no limit when every level is unlimited', async () => {
    const unlimited = '9223372036854771712\n';
    const fsRoot = makeTree({
      'proc/self/cgroup': '4:memory:/user.slice/session-1.scope\n',
      'proc/self/mountinfo': mountinfo(v1Mount()),
      'sys/fs/cgroup/memory/memory.limit_in_bytes': unlimited,
      'sys/fs/cgroup/memory/user.slice/memory.limit_in_bytes': unlimited,
      'sys/fs/cgroup/memory/user.slice/session-1.scope/memory.limit_in_bytes': unlimited,
      'sys/fs/cgroup/memory/user.slice/session-1.scope/memory.stat': memoryStat({
        hierarchical_memory_limit: '9223372036854771712',
      }),
    });
    expect(await detect(fsRoot)).toMatchObject({
      limitBytes: null,
      limitSource: null,
      limitOrigin: null,
      totalBytes: HOST,
    });
  });

  it('finds a Slurm job limit on job_N above step_0/task_0', async () => {
    const job = 'slurm/uid_1000/job_4242';
    const fsRoot = makeTree({
      'proc/self/cgroup': `4:memory:/${job}/step_0/task_0\n`,
      'proc/self/mountinfo': mountinfo(v1Mount()),
      [`sys/fs/cgroup/memory/${job}/memory.limit_in_bytes`]: `${10 * GIB}\n`,
      [`sys/fs/cgroup/memory/${job}/memory.usage_in_bytes`]: `${4 * GIB}\n`,
      [`sys/fs/cgroup/memory/${job}/memory.stat`]: memoryStat({ total_inactive_file: GIB }),
      [`sys/fs/cgroup/memory/${job}/step_0/memory.limit_in_bytes`]: '9223372036854771712\n',
      [`sys/fs/cgroup/memory/${job}/step_0/task_0/memory.limit_in_bytes`]: '9223372036854771712\n',
    });
    const report = await detect(fsRoot);
    expect(report).toMatchObject({
      limitBytes: 10 * GIB,
      limitSource: 'cgroup-v1',
      availableBytes: 7 * GIB,
    });
    expect(report?.limitOrigin?.replaceAll('\\', '/')).toContain(`${job}/memory.limit_in_bytes`);
  });

  it('takes hierarchical_memory_limit when a limit sits above the visible tree', async () => {
    const fsRoot = makeTree({
      'proc/self/cgroup': '4:memory:/\n',
      'proc/self/mountinfo': mountinfo(v1Mount()),
      'sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712\n',
      'sys/fs/cgroup/memory/memory.stat': memoryStat({ hierarchical_memory_limit: 3 * GIB }),
    });
    const report = await detect(fsRoot);
    expect(report).toMatchObject({ limitBytes: 3 * GIB, limitSource: 'cgroup-v1' });
    expect(report?.limitOrigin).toMatch(/memory\.stat$/);
  });
});

describe('a hybrid host', () => {
  it('is decided by v1 when the unified tree carries no memory controller', async () => {
    const fsRoot = makeTree({
      'proc/self/cgroup': '9:name=systemd:/\n4:memory:/process_api/836197e9\n1:cpu:/\n0::/\n',
      'proc/self/mountinfo': mountinfo(
        v1Mount(),
        mountLine(41, '/', '/sys/fs/cgroup/unified', 'cgroup2', 'rw'),
        mountLine(40, '/', '/sys/fs/cgroup/systemd', 'cgroup', 'rw,name=systemd'),
      ),
      'sys/fs/cgroup/unified/cgroup.controllers': '\n',
      'sys/fs/cgroup/unified/memory.max': `${GIB}\n`,
      'sys/fs/cgroup/memory/process_api/836197e9/memory.limit_in_bytes': `${6 * GIB}\n`,
      'sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712\n',
    });
    expect(await detect(fsRoot)).toMatchObject({ limitBytes: 6 * GIB, limitSource: 'cgroup-v1' });
  });

  it('takes the smaller limit when both trees carry one', async () => {
    const fsRoot = makeTree({
      'proc/self/cgroup': '4:memory:/a\n0::/b\n',
      'proc/self/mountinfo': mountinfo(
        v1Mount(),
        mountLine(41, '/', '/sys/fs/cgroup/unified', 'cgroup2', 'rw'),
      ),
      'sys/fs/cgroup/unified/b/memory.max': `${5 * GIB}\n`,
      'sys/fs/cgroup/memory/a/memory.limit_in_bytes': `${6 * GIB}\n`,
    });
    expect(await detect(fsRoot)).toMatchObject({ limitBytes: 5 * GIB, limitSource: 'cgroup-v2' });
  });
});

describe('what is no limit', () => {
  const v1Tree = (limit: string) =>
    makeTree({
      'proc/self/cgroup': '4:memory:/c\n',
      'proc/self/mountinfo': mountinfo(v1Mount()),
      'sys/fs/cgroup/memory/c/memory.limit_in_bytes': limit,
    });

  it.each([
    ['the 4 KiB page sentinel', '9223372036854771712'],
    ['the 16 KiB page sentinel', '9223372036854759424'],
    ['the 64 KiB page sentinel', '9223372036854710272'],
    ['a limit equal to host RAM', String(HOST)],
    ['a limit above host RAM', String(HOST + 4096)],
    ['a limit of 0', '0'],
    ['garbage', 'lots\n'],
    ['an empty file', ''],
    ['a negative number', '-1\n'],
    ['a fraction', '1.5e9\n'],
  ])('%s', async (_, limit) => {
    expect(await detect(v1Tree(limit))).toMatchObject({
      limitBytes: null,
      limitSource: null,
      totalBytes: HOST,
    });
  });

  it('v2 max, and a limit just below host RAM is one', async () => {
    const v2Tree = (limit: string) =>
      makeTree({
        'proc/self/cgroup': '0::/c\n',
        'proc/self/mountinfo': mountinfo(v2Mount),
        'sys/fs/cgroup/c/memory.max': limit,
      });
    expect(await detect(v2Tree('max\n'))).toMatchObject({ limitBytes: null });
    expect(await detect(v2Tree(`${HOST - 4096}\n`))).toMatchObject({ limitBytes: HOST - 4096 });
  });
});

describe('broken trees', () => {
  const limited = { 'sys/fs/cgroup/c/memory.max': `${GIB}\n` };

  it.each([
    ['no /proc at all', {}],
    [
      'an empty /proc/self/cgroup',
      { 'proc/self/cgroup': '', 'proc/self/mountinfo': mountinfo(v2Mount), ...limited },
    ],
    [
      'garbage in /proc/self/cgroup',
      {
        'proc/self/cgroup': 'garbage\n::\n',
        'proc/self/mountinfo': mountinfo(v2Mount),
        ...limited,
      },
    ],
    ['no mountinfo', { 'proc/self/cgroup': '0::/c\n', ...limited }],
    [
      'garbage in mountinfo',
      { 'proc/self/cgroup': '0::/c\n', 'proc/self/mountinfo': 'x - y\nnonsense\n', ...limited },
    ],
    [
      'no cgroup2 mount',
      { 'proc/self/cgroup': '0::/c\n', 'proc/self/mountinfo': mountinfo(), ...limited },
    ],
    [
      'a relative cgroup path',
      { 'proc/self/cgroup': '0::c\n', 'proc/self/mountinfo': mountinfo(v2Mount), ...limited },
    ],
  ])('%s: no limit, no exception', async (_, files) => {
    const fsRoot = makeTree(files);
    expect(await detect(fsRoot)).toMatchObject({
      limitBytes: null,
      totalBytes: HOST,
      detectionMethod: 'systeminformation',
    });
    expect(
      detectMemorySync({ fsRoot, env, probes: { totalmem: () => HOST }, refresh: true })
        ?.limitBytes,
    ).toBeNull();
  });

  it('ignores a cgroup path that escapes the mount with ..', async () => {
    const fsRoot = makeTree({
      'proc/self/cgroup': '0::/../../other\n',
      'proc/self/mountinfo': mountinfo(v2Mount),
      'sys/fs/cgroup/memory.max': `${GIB}\n`,
      'sys/other/memory.max': `${GIB}\n`,
    });
    expect(await detect(fsRoot)).toMatchObject({ limitBytes: null });
  });

  it('ignores a mount whose root does not hold the cgroup path', async () => {
    const fsRoot = makeTree({
      'proc/self/cgroup': '4:memory:/elsewhere\n',
      'proc/self/mountinfo': mountinfo(v1Mount('/docker/abc')),
      'sys/fs/cgroup/memory/memory.limit_in_bytes': `${GIB}\n`,
    });
    expect(await detect(fsRoot)).toMatchObject({ limitBytes: null });
  });

  // Windows file names cannot hold colons, so this tree cannot be built there.
  it.runIf(process.platform !== 'win32')(
    'keeps colons that are part of a cgroup path',
    async () => {
      const scope = 'kubepods/pod:1:2/cri-containerd:abc';
      const fsRoot = makeTree({
        'proc/self/cgroup': `0::/${scope}\n`,
        'proc/self/mountinfo': mountinfo(v2Mount),
        [`sys/fs/cgroup/${scope}/memory.max`]: `${3 * GIB}\n`,
      });
      expect(await detect(fsRoot)).toMatchObject({ limitBytes: 3 * GIB });
    },
  );

  it('splits /proc/self/cgroup on the first two colons only', async () => {
    const fsRoot = makeTree({
      'proc/self/cgroup': '0::/a:b\n',
      'proc/self/mountinfo': mountinfo(mountLine(30, '/a:b', '/sys/fs/cgroup', 'cgroup2', 'rw')),
      'sys/fs/cgroup/memory.max': `${3 * GIB}\n`,
    });
    expect(await detect(fsRoot)).toMatchObject({ limitBytes: 3 * GIB });
  });

  it('keeps the limit when usage cannot be read; available is then host MemAvailable capped by the limit', async () => {
    const fsRoot = makeTree({
      'proc/self/cgroup': '0::/c\n',
      'proc/self/mountinfo': mountinfo(v2Mount),
      'proc/meminfo': meminfo(HOST, 40 * GIB),
      'sys/fs/cgroup/c/memory.max': `${2 * GIB}\n`,
      'sys/fs/cgroup/c/memory.current': 'garbage\n',
    });
    expect(await detect(fsRoot)).toMatchObject({ limitBytes: 2 * GIB, availableBytes: 2 * GIB });
  });
});

describe('available memory', () => {
  it('is host MemAvailable without a limit', async () => {
    const fsRoot = makeTree({ 'proc/meminfo': meminfo(HOST, 40 * GIB) });
    expect(await detect(fsRoot)).toMatchObject({ limitBytes: null, availableBytes: 40 * GIB });
  });

  it('is the smaller of host MemAvailable and the limit minus the working set', async () => {
    const fsRoot = makeTree({
      'proc/self/cgroup': '0::/c\n',
      'proc/self/mountinfo': mountinfo(v2Mount),
      'proc/meminfo': meminfo(HOST, 512 * MIB),
      'sys/fs/cgroup/c/memory.max': `${8 * GIB}\n`,
      'sys/fs/cgroup/c/memory.current': `${GIB}\n`,
    });
    expect(await detect(fsRoot)).toMatchObject({ availableBytes: 512 * MIB });
  });

  it('is 0, not negative, when usage exceeds the limit', async () => {
    const fsRoot = makeTree({
      'proc/self/cgroup': '0::/c\n',
      'proc/self/mountinfo': mountinfo(v2Mount),
      'sys/fs/cgroup/c/memory.max': `${GIB}\n`,
      'sys/fs/cgroup/c/memory.current': `${2 * GIB}\n`,
    });
    expect(await detect(fsRoot)).toMatchObject({ availableBytes: 0 });
  });

  it('is the basis of the threshold with basis: available', async () => {
    const fsRoot = makeTree({
      'proc/self/cgroup': '0::/\n',
      'proc/self/mountinfo': mountinfo(v2Mount),
      'proc/meminfo': meminfo(HOST, 40 * GIB),
      'sys/fs/cgroup/memory.max': `${8 * GIB}\n`,
      'sys/fs/cgroup/memory.current': `${4 * GIB}\n`,
    });
    const options = {
      fsRoot,
      env,
      probes: probesWith(HOST),
      refresh: true,
      memoryFraction: 0.5,
    } as const;
    const total = await getAdaptiveMemoryThreshold(options);
    expect(total).toMatchObject({
      thresholdGb: 4,
      info: { basis: 'total', totalMemoryGb: 8, limitSource: 'cgroup-v2' },
    });
    const available = await getAdaptiveMemoryThreshold({ ...options, basis: 'available' });
    expect(available).toMatchObject({
      thresholdGb: 2,
      info: { basis: 'available', totalMemoryGb: 4, limitSource: 'cgroup-v2' },
    });
  });

  it('falls back to the total, and says so, when available memory is unknown', async () => {
    const fsRoot = makeTree({});
    const { info } = await getAdaptiveMemoryThreshold({
      fsRoot,
      env,
      probes: probesWith(HOST),
      refresh: true,
      basis: 'available',
    });
    expect(info).toMatchObject({ basis: 'total', totalMemoryGb: 64 });
  });
});
