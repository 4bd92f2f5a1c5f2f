import { describe, expect, it } from 'vitest';
import { detectMemory, detectMemorySync } from '../src/index.js';
import { GIB, MIB, makeTree, memoryStat, mountLine, probesWith } from './helpers.js';

const HOST = 64 * GIB;
const UNLIMITED = '9223372036854771712\n';

/** A v1 host where the container has a 512 MiB reservation and no hard limit. */
const reservedTree = () =>
  makeTree({
    'proc/self/cgroup': '4:memory:/ecs/task-1/app\n0::/\n',
    'proc/self/mountinfo': `${mountLine(35, '/', '/sys/fs/cgroup/memory', 'cgroup', 'rw,memory')}\n`,
    'sys/fs/cgroup/memory/ecs/task-1/app/memory.limit_in_bytes': UNLIMITED,
    'sys/fs/cgroup/memory/ecs/task-1/app/memory.soft_limit_in_bytes': `${512 * MIB}\n`,
    'sys/fs/cgroup/memory/ecs/task-1/app/memory.stat': memoryStat({
      hierarchical_memory_limit: UNLIMITED.trim(),
    }),
  });

// What libuv reports on such a host: min(soft limit, hard limit).
const libuvOnV1 = () => 512 * MIB;

describe("Node's own limit reading", () => {
  it('never lets a v1 soft limit cap the total', async () => {
    const options = {
      fsRoot: reservedTree(),
      env: {},
      refresh: true,
      probes: { ...probesWith(HOST, HOST), constrainedMemory: libuvOnV1 },
    };
    const expected = { limitBytes: null, limitSource: null, totalBytes: HOST };
    expect(await detectMemory(options)).toMatchObject(expected);
    expect(detectMemorySync(options)).toMatchObject(expected);
  });

  it('is used where no cgroup hierarchy can be located', async () => {
    const report = await detectMemory({
      fsRoot: makeTree({}),
      env: {},
      refresh: true,
      probes: { ...probesWith(HOST), constrainedMemory: () => 3 * GIB },
    });
    expect(report).toMatchObject({
      limitBytes: 3 * GIB,
      limitSource: 'node',
      limitOrigin: 'process.constrainedMemory()',
    });
  });

  it.each([
    ['UINT64 max', () => 2 ** 64],
    ['0', () => 0],
    ['NaN', () => Number.NaN],
    [
      'a throw',
      () => {
        throw new Error('ENOSYS');
      },
    ],
  ])('is no limit when it gives %s', (_, constrainedMemory) => {
    const report = detectMemorySync({
      fsRoot: makeTree({}),
      env: {},
      refresh: true,
      probes: { totalmem: () => HOST, constrainedMemory },
    });
    expect(report).toMatchObject({ limitBytes: null, totalBytes: HOST });
  });
});
