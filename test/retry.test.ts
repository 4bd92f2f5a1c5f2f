import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { HostProbes } from '../src/index.js';
import { detectMemory, detectMemorySync } from '../src/index.js';
import { GIB, makeTree, mountLine } from './helpers.js';

const env = {};
const fsRoot = makeTree({});

afterEach(() => {
  vi.useRealTimers();
});

/** systeminformation that fails (hangs or answers nothing) while `failing()` is true, counting calls. */
function flakyProbes(failing: () => boolean, mode: 'hang' | 'nothing' = 'nothing') {
  const calls = { mem: 0 };
  let os = 8 * GIB;
  const probes: HostProbes = {
    loadSystemInformation: async () => ({
      mem: () => {
        calls.mem += 1;
        if (!failing()) return Promise.resolve({ total: 32 * GIB, available: 20 * GIB });
        return mode === 'hang' ? new Promise(() => {}) : Promise.resolve({});
      },
    }),
    totalmem: () => os,
  };
  return { probes, calls, setOs: (bytes: number) => (os = bytes) };
}

describe('a failed systeminformation', () => {
  it('is asked again after ttlMs: one slow first call does not pin the answer', async () => {
    vi.useFakeTimers({ toFake: ['hrtime'] });
    let slow = true;
    const { probes } = flakyProbes(() => slow, 'hang');
    expect((await detectMemory({ fsRoot, env, probes, timeoutMs: 1 }))?.detectionMethod).toBe('os');
    slow = false;
    expect((await detectMemory({ fsRoot, env, probes }))?.detectionMethod).toBe('os');
    vi.advanceTimersByTime(1000);
    expect(await detectMemory({ fsRoot, env, probes })).toMatchObject({
      detectionMethod: 'systeminformation',
      hostTotalBytes: 32 * GIB,
    });
  });

  it('is asked again after a delay that doubles up to a minute while it keeps failing', async () => {
    vi.useFakeTimers({ toFake: ['hrtime'] });
    const { probes, calls } = flakyProbes(() => true);
    const askedAt: number[] = [];
    for (let second = 0; second <= 300; second += 1) {
      const before = calls.mem;
      expect((await detectMemory({ fsRoot, env, probes }))?.detectionMethod).toBe('os');
      if (calls.mem > before) askedAt.push(second);
      vi.advanceTimersByTime(1000);
    }
    const gaps = askedAt.slice(1).map((at, i) => at - (askedAt[i] ?? 0));
    expect(gaps.slice(0, 7)).toEqual([1, 2, 4, 8, 16, 32, 60]);
    expect(gaps.slice(7).every((gap) => gap === 60)).toBe(true);
  });

  it('is asked again after a refresh at once', async () => {
    let failing = true;
    const { probes, calls } = flakyProbes(() => failing);
    await detectMemory({ fsRoot, env, probes });
    failing = false;
    expect((await detectMemory({ fsRoot, env, probes, refresh: true }))?.detectionMethod).toBe(
      'systeminformation',
    );
    expect(calls.mem).toBe(2);
  });
});

describe('a null', () => {
  it('is never kept: the next call asks os.totalmem() again', async () => {
    const { probes, setOs } = flakyProbes(() => true);
    setOs(0);
    expect(await detectMemory({ fsRoot, env, probes })).toBeNull();
    expect(detectMemorySync({ fsRoot, env, probes })).toBeNull();
    setOs(4 * GIB);
    expect(await detectMemory({ fsRoot, env, probes })).toMatchObject({ hostTotalBytes: 4 * GIB });
    expect(detectMemorySync({ fsRoot, env, probes })).toMatchObject({ hostTotalBytes: 4 * GIB });
  });
});

describe('host available memory', () => {
  it("is systeminformation's available figure when it answered", async () => {
    let available = 20 * GIB;
    const probes: HostProbes = {
      loadSystemInformation: async () => ({
        mem: async () => ({ total: 32 * GIB, available }),
      }),
      totalmem: () => 32 * GIB,
    };
    expect((await detectMemory({ fsRoot, env, probes }))?.availableBytes).toBe(20 * GIB);
    available = 6 * GIB;
    expect((await detectMemory({ fsRoot, env, probes, refresh: true }))?.availableBytes).toBe(
      6 * GIB,
    );
  });
});

describe('the cache clock', () => {
  it('is monotonic: a wall clock stepped back does not freeze the limits', () => {
    vi.useFakeTimers({ toFake: ['Date', 'hrtime'] });
    const tree = makeTree({
      'proc/self/cgroup': '0::/\n',
      'proc/self/mountinfo': `${mountLine(30, '/', '/sys/fs/cgroup', 'cgroup2', 'rw')}\n`,
      'sys/fs/cgroup/memory.max': `${8 * GIB}\n`,
    });
    const probes = { totalmem: () => 64 * GIB };
    expect(detectMemorySync({ fsRoot: tree, env, probes })?.limitBytes).toBe(8 * GIB);
    vi.setSystemTime(Date.now() - 365 * 24 * 3600 * 1000);
    writeFileSync(join(tree, 'sys/fs/cgroup/memory.max'), `${4 * GIB}\n`);
    vi.advanceTimersByTime(1000);
    expect(detectMemorySync({ fsRoot: tree, env, probes })?.limitBytes).toBe(4 * GIB);
  });
});
