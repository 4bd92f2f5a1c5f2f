// A figure is bytes (0 included), no limit, or unknown: never one taken for another. Each case
// here was a real mix-up, and each of them overstated memory.
import { describe, expect, it } from 'vitest';
import {
  detectMemory,
  detectMemorySync,
  getAdaptiveMemoryThresholdSync,
  planNlsqFitSync,
} from '../src/index.js';
import { captureWarnings, GIB, makeTree, meminfo, mountLine, probesWith } from './helpers.js';

const HOST = 64 * GIB;

describe('a hybrid host whose v1 memory mount cannot be located', () => {
  // The v1 memory line names a cgroup that no mount shows; the unified tree has no memory controller.
  const fsRoot = makeTree({
    'proc/self/cgroup': '4:memory:/job/step\n0::/\n',
    'proc/self/mountinfo': `${mountLine(41, '/', '/sys/fs/cgroup/unified', 'cgroup2', 'rw')}\n`,
    'sys/fs/cgroup/unified/cgroup.controllers': 'hugetlb pids\n',
    'proc/meminfo': meminfo(HOST, 32 * GIB),
  });

  it("keeps Node's own figure of the limit: a tree without memory locates nothing", async () => {
    const probes = { ...probesWith(HOST, HOST), constrainedMemory: () => 2 * GIB };
    for (const report of [
      detectMemorySync({ fsRoot, env: {}, probes, refresh: true }),
      await detectMemory({ fsRoot, env: {}, probes, refresh: true }),
    ]) {
      expect(report).toMatchObject({
        limitBytes: 2 * GIB,
        limitSource: 'node',
        totalBytes: 2 * GIB,
      });
    }
  });
});

describe('no memory available', () => {
  const fsRoot = makeTree({ 'proc/meminfo': meminfo(16 * GIB, 0) });
  const probes = { totalmem: () => 16 * GIB };

  it('is 0 bytes, not unknown', () => {
    expect(detectMemorySync({ fsRoot, env: {}, probes, refresh: true })?.availableBytes).toBe(0);
  });

  it("gives a budget of 0 with basis 'available', never 75% of the total", () => {
    const threshold = getAdaptiveMemoryThresholdSync({
      fsRoot,
      env: {},
      probes,
      basis: 'available',
      refresh: true,
    });
    expect(threshold).toMatchObject({ thresholdBytes: 0, info: { basis: 'available' } });
  });

  it("is 0 from systeminformation's `available` too", async () => {
    const host = {
      loadSystemInformation: async () => ({ mem: async () => ({ total: 16 * GIB, available: 0 }) }),
      totalmem: () => 16 * GIB,
    };
    const report = await detectMemory({
      fsRoot: makeTree({}),
      env: {},
      probes: host,
      refresh: true,
    });
    expect(report?.availableBytes).toBe(0);
  });
});

describe('a sentinel', () => {
  it.each([
    // As Node reads them: the nearest doubles of v1's 2 ** 63 rounded to a page, and UINT64_MAX.
    ['v1 unlimited, 64 KiB pages', Number('9223372036854710272')],
    ['v1 unlimited, 4 KiB pages', Number('9223372036854771712')],
    ['UINT64_MAX', Number('18446744073709551615')],
    ['just past 2 ** 53', 2 ** 53 + 2],
  ])(
    "from Node's figure (%s) is no limit, never the total, when host RAM is unknown",
    (_, figure) => {
      captureWarnings();
      const probes = { totalmem: () => 0, constrainedMemory: () => figure };
      const fsRoot = makeTree({});
      expect(detectMemorySync({ fsRoot, env: {}, probes, refresh: true })).toBeNull();
      const threshold = getAdaptiveMemoryThresholdSync({ fsRoot, env: {}, probes, refresh: true });
      expect(threshold.info.detectionMethod).toBe('fallback');
    },
  );

  it('from Slurm is no limit either', () => {
    const fsRoot = makeTree({});
    const env = { SLURM_MEM_PER_NODE: String(2 ** 45) }; // MiB: past 2 ** 53 bytes
    const report = detectMemorySync({
      fsRoot,
      env,
      probes: { totalmem: () => HOST },
      refresh: true,
    });
    expect(report).toMatchObject({ limitBytes: null, totalBytes: HOST });
  });
});

describe('a limited ancestor whose usage cannot be read', () => {
  // Kubernetes: the limit on the pod, whose usage file is not visible; the container's is.
  const fsRoot = makeTree({
    'proc/self/cgroup': '0::/pod/ctr\n',
    'proc/self/mountinfo': `${mountLine(30, '/', '/sys/fs/cgroup', 'cgroup2', 'rw')}\n`,
    'sys/fs/cgroup/pod/memory.max': `${4 * GIB}\n`,
    'sys/fs/cgroup/pod/ctr/memory.max': 'max\n',
    'sys/fs/cgroup/pod/ctr/memory.current': `${3 * GIB}\n`,
    'proc/meminfo': meminfo(HOST, 48 * GIB),
  });

  it("is bounded by the usage seen below it, the leaf's: the headroom is 1 GiB, not 4", () => {
    const report = detectMemorySync({
      fsRoot,
      env: {},
      probes: { totalmem: () => HOST },
      refresh: true,
    });
    expect(report).toMatchObject({ totalBytes: 4 * GIB, availableBytes: GIB });
  });

  it('plans from what is left', () => {
    const plan = planNlsqFitSync(10_000_000, 2000, {
      fsRoot,
      env: {},
      probes: { totalmem: () => HOST },
      basis: 'available',
      refresh: true,
    });
    expect(plan.thresholdBytes).toBe(Math.floor(0.75 * GIB));
  });
});

describe('an unreadable or garbled limit file', () => {
  it.each([
    [{ SLURM_MEM_PER_NODE: '32G' }, /SLURM_MEM_PER_NODE is "32G"/],
    [
      { SLURM_MEM_PER_CPU: '1024' },
      /SLURM_MEM_PER_CPU\*SLURM_CPUS_ON_NODE is "1024" × no SLURM_CPUS_ON_NODE/,
    ],
    // Times 0 CPUs or GPUs is no allocation Slurm makes: not "all the node's memory".
    [
      { SLURM_MEM_PER_CPU: '1024', SLURM_CPUS_ON_NODE: '0' },
      /SLURM_MEM_PER_CPU\*SLURM_CPUS_ON_NODE is "1024" × "0"/,
    ],
    [
      { SLURM_MEM_PER_GPU: '20000', SLURM_GPUS_ON_NODE: '0' },
      /SLURM_MEM_PER_GPU\*SLURM_GPUS_ON_NODE is "20000" × "0"/,
    ],
  ])('says so when a Slurm limit is set but cannot be read: %o', (env, message) => {
    const warnings = captureWarnings();
    const report = detectMemorySync({
      fsRoot: makeTree({}),
      env,
      probes: { totalmem: () => HOST },
      refresh: true,
    });
    expect(report).toMatchObject({ limitBytes: null, totalBytes: HOST });
    expect(warnings).toEqual([
      { code: 'NLSQ_MEMORY_LIMIT_UNKNOWN', message: expect.stringMatching(message) },
    ]);
  });

  it("is unknown, not unlimited: Node's figure is asked then", () => {
    const warnings = captureWarnings();
    const fsRoot = makeTree({
      'proc/self/cgroup': '0::/\n',
      'proc/self/mountinfo': `${mountLine(30, '/', '/sys/fs/cgroup', 'cgroup2', 'rw')}\n`,
      'sys/fs/cgroup/cgroup.controllers': 'cpu memory pids\n',
      'sys/fs/cgroup/memory.max': 'garbage\n',
    });
    const probes = {
      totalmem: () => HOST,
      constrainedMemory: () => 3 * GIB,
      heapSizeLimit: () => GIB,
    };
    expect(detectMemorySync({ fsRoot, env: {}, probes, refresh: true })).toMatchObject({
      limitBytes: 3 * GIB,
      limitSource: 'node',
    });
    expect(warnings.map((warning) => warning.code)).toEqual(['NLSQ_MEMORY_LIMIT_UNKNOWN']);
    expect(warnings[0]?.message).toMatch(
      /memory\.max holds "garbage"\): 3\.00 GB is the total used/,
    );
  });

  // A cgroup of a job below a limited parent (4 GiB): the job's own memory.max is what fails.
  const below = (leafLimit: Record<string, string>) =>
    makeTree({
      'proc/self/cgroup': '0::/job\n',
      'proc/self/mountinfo': `${mountLine(30, '/', '/sys/fs/cgroup', 'cgroup2', 'rw')}\n`,
      'sys/fs/cgroup/cgroup.controllers': 'cpu memory pids\n',
      'sys/fs/cgroup/memory.max': `${4 * GIB}\n`,
      ...leafLimit,
    });

  it.each([
    ['garbled', { 'sys/fs/cgroup/job/memory.max': '12x\n' }, /job\/memory\.max holds "12x"/],
    // A folder where the file should be: it is there, and no read of it succeeds (EISDIR).
    ['unreadable', { 'sys/fs/cgroup/job/memory.max/x': '' }, /job\/memory\.max is unreadable/],
  ])(
    "is unknown when %s below a limited parent: the parent's figure is no bound on it",
    (_, leaf, why) => {
      const fsRoot = below(leaf);
      // Node's figure, where it has one, is the tighter: it is used.
      let warnings = captureWarnings();
      const probes = { totalmem: () => HOST, constrainedMemory: () => GIB, heapSizeLimit: () => 0 };
      expect(detectMemorySync({ fsRoot, env: {}, probes, refresh: true })).toMatchObject({
        limitBytes: GIB,
        limitSource: 'node',
      });
      expect(warnings.map((warning) => warning.code)).toEqual(['NLSQ_MEMORY_LIMIT_UNKNOWN']);
      expect(warnings[0]?.message).toMatch(why);
      // Without it, the parent's limit is the best known, and the warning says it may be too large.
      warnings = captureWarnings();
      const noNode = { totalmem: () => HOST, constrainedMemory: () => 0, heapSizeLimit: () => 0 };
      expect(detectMemorySync({ fsRoot, env: {}, probes: noNode, refresh: true })).toMatchObject({
        limitBytes: 4 * GIB,
        limitSource: 'cgroup-v2',
      });
      expect(warnings.map((warning) => warning.code)).toEqual(['NLSQ_MEMORY_LIMIT_UNKNOWN']);
      expect(warnings[0]?.message).toMatch(/4\.00 GB is the total used/);
    },
  );

  it("is covered on v1 by the kernel's figure for the whole chain: no warning", () => {
    const warnings = captureWarnings();
    const fsRoot = makeTree({
      'proc/self/cgroup': '4:memory:/job\n',
      'proc/self/mountinfo': `${mountLine(30, '/', '/sys/fs/cgroup/memory', 'cgroup', 'rw,memory')}\n`,
      'sys/fs/cgroup/memory/job/memory.limit_in_bytes': 'garbage\n',
      'sys/fs/cgroup/memory/job/memory.stat': `hierarchical_memory_limit ${2 * GIB}\n`,
    });
    const probes = { totalmem: () => HOST, constrainedMemory: () => GIB, heapSizeLimit: () => 0 };
    expect(detectMemorySync({ fsRoot, env: {}, probes, refresh: true })).toMatchObject({
      limitBytes: 2 * GIB,
      limitSource: 'cgroup-v1',
    });
    expect(warnings).toEqual([]);
  });

  it('is no limit, without a warning, where no file sets one: the root cgroup', () => {
    const warnings = captureWarnings();
    const fsRoot = makeTree({
      'proc/self/cgroup': '0::/\n',
      'proc/self/mountinfo': `${mountLine(30, '/', '/sys/fs/cgroup', 'cgroup2', 'rw')}\n`,
      'sys/fs/cgroup/cgroup.controllers': 'cpu memory pids\n',
      'sys/fs/cgroup/memory.stat': 'anon 0\n',
    });
    const probes = { totalmem: () => HOST, constrainedMemory: () => 3 * GIB };
    expect(detectMemorySync({ fsRoot, env: {}, probes, refresh: true })).toMatchObject({
      limitBytes: null,
      totalBytes: HOST,
    });
    expect(warnings).toEqual([]);
  });
});
