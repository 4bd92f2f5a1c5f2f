import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  detectMemory,
  detectMemorySync,
  getAdaptiveMemoryThreshold,
  getAdaptiveMemoryThresholdSync,
  selectNlsqStrategy,
} from '../src/index.js';
import { GIB, makeTree, mountLine, probesWith } from './helpers.js';

const env = {};
const empty = makeTree({});

function limitedTree(bytes: number): { fsRoot: string; setLimit: (bytes: number) => void } {
  const fsRoot = makeTree({
    'proc/self/cgroup': '0::/\n',
    'proc/self/mountinfo': `${mountLine(30, '/', '/sys/fs/cgroup', 'cgroup2', 'rw')}\n`,
    'sys/fs/cgroup/memory.max': `${bytes}\n`,
  });
  return {
    fsRoot,
    setLimit: (next) => writeFileSync(join(fsRoot, 'sys/fs/cgroup/memory.max'), `${next}\n`),
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('sharing', () => {
  it('lets 200 concurrent callers share one systeminformation call', async () => {
    const probes = probesWith(32 * GIB);
    const results = await Promise.all([
      ...Array.from({ length: 100 }, () => detectMemory({ fsRoot: empty, env, probes })),
      ...Array.from({ length: 50 }, () =>
        getAdaptiveMemoryThreshold({ fsRoot: empty, env, probes }),
      ),
      ...Array.from({ length: 50 }, () =>
        selectNlsqStrategy(1e6, 10, { fsRoot: empty, env, probes }),
      ),
    ]);
    expect(results).toHaveLength(200);
    expect(probes.calls).toEqual({ load: 1, mem: 1 });
  });

  it('detects host RAM once per process, and again with refresh', async () => {
    const probes = probesWith(32 * GIB);
    await detectMemory({ fsRoot: empty, env, probes });
    await detectMemory({ fsRoot: empty, env, probes });
    expect(probes.calls.mem).toBe(1);
    await detectMemory({ fsRoot: empty, env, probes, refresh: true });
    expect(probes.calls.mem).toBe(2);
  });

  it('keeps a separate cache for each probes object', async () => {
    const first = await detectMemory({ fsRoot: empty, env, probes: probesWith(32 * GIB) });
    const second = await detectMemory({ fsRoot: empty, env, probes: probesWith(16 * GIB) });
    expect([first?.hostTotalBytes, second?.hostTotalBytes]).toEqual([32 * GIB, 16 * GIB]);
  });

  it('reads os.totalmem() once per process in the sync path', () => {
    let calls = 0;
    const probes = { totalmem: () => ++calls * GIB };
    expect(detectMemorySync({ fsRoot: empty, env, probes })?.hostTotalBytes).toBe(GIB);
    expect(getAdaptiveMemoryThresholdSync({ fsRoot: empty, env, probes }).info.totalMemoryGb).toBe(
      1,
    );
    expect(detectMemorySync({ fsRoot: empty, env, probes, refresh: true })?.hostTotalBytes).toBe(
      2 * GIB,
    );
  });
});

describe('limits', () => {
  it('are read again once the TTL has passed', async () => {
    vi.useFakeTimers({ toFake: ['hrtime'] });
    const { fsRoot, setLimit } = limitedTree(8 * GIB);
    const probes = probesWith(64 * GIB);
    expect((await detectMemory({ fsRoot, env, probes }))?.limitBytes).toBe(8 * GIB);
    setLimit(4 * GIB);
    vi.advanceTimersByTime(999);
    expect((await detectMemory({ fsRoot, env, probes }))?.limitBytes).toBe(8 * GIB);
    vi.advanceTimersByTime(1);
    expect((await detectMemory({ fsRoot, env, probes }))?.limitBytes).toBe(4 * GIB);
  });

  it('follow the ttlMs option, in the sync path too', () => {
    vi.useFakeTimers({ toFake: ['hrtime'] });
    const { fsRoot, setLimit } = limitedTree(8 * GIB);
    const probes = { totalmem: () => 64 * GIB };
    expect(detectMemorySync({ fsRoot, env, probes, ttlMs: 60_000 })?.limitBytes).toBe(8 * GIB);
    setLimit(2 * GIB);
    vi.advanceTimersByTime(59_999);
    expect(detectMemorySync({ fsRoot, env, probes, ttlMs: 60_000 })?.limitBytes).toBe(8 * GIB);
    vi.advanceTimersByTime(1);
    expect(detectMemorySync({ fsRoot, env, probes, ttlMs: 60_000 })?.limitBytes).toBe(2 * GIB);
  });

  it('are read on every call with ttlMs 0, and at once with refresh', () => {
    const { fsRoot, setLimit } = limitedTree(8 * GIB);
    const probes = { totalmem: () => 64 * GIB };
    expect(detectMemorySync({ fsRoot, env, probes })?.limitBytes).toBe(8 * GIB);
    setLimit(6 * GIB);
    expect(detectMemorySync({ fsRoot, env, probes, refresh: true })?.limitBytes).toBe(6 * GIB);
    setLimit(5 * GIB);
    expect(detectMemorySync({ fsRoot, env, probes, ttlMs: 0 })?.limitBytes).toBe(5 * GIB);
  });

  it('are cached apart for different Slurm allocations', () => {
    const probes = { totalmem: () => 64 * GIB };
    expect(
      detectMemorySync({ fsRoot: empty, env: { SLURM_MEM_PER_NODE: '1024' }, probes })?.limitBytes,
    ).toBe(GIB);
    expect(
      detectMemorySync({ fsRoot: empty, env: { SLURM_MEM_PER_NODE: '2048' }, probes })?.limitBytes,
    ).toBe(2 * GIB);
  });
});
