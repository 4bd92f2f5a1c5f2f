import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type FitPlan, type MemoryWatch, watchNlsqStrategy } from '../src/index.js';
import { captureWarnings, GIB, MIB, makeTree, mountLine, probesWith } from './helpers.js';

const INTERVAL = 50;

function podTree(limitBytes: number) {
  const fsRoot = makeTree({
    'proc/self/cgroup': '0::/pod\n',
    'proc/self/mountinfo': `${mountLine(30, '/', '/sys/fs/cgroup', 'cgroup2', 'rw')}\n`,
    'sys/fs/cgroup/pod/memory.max': `${limitBytes}\n`,
    'sys/fs/cgroup/pod/memory.pressure': 'some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n',
  });
  return {
    fsRoot,
    write: (path: string, text: string) =>
      writeFileSync(join(fsRoot, 'sys/fs/cgroup/pod', path), text),
  };
}

const opened: MemoryWatch<FitPlan>[] = [];
afterEach(() => {
  for (const watch of opened.splice(0)) watch.close();
  vi.restoreAllMocks();
  vi.useRealTimers();
});

function watchPlans(fsRoot: string, nPoints: number, nParams: number, extra = {}) {
  const watch = watchNlsqStrategy(nPoints, nParams, {
    fsRoot,
    env: {},
    probes: probesWith(64 * GIB),
    intervalMs: INTERVAL,
    refresh: true,
    ...extra,
  });
  opened.push(watch);
  return watch;
}

const settle = (n = 4) => new Promise((resolve) => setTimeout(resolve, INTERVAL * n));

describe('watchNlsqStrategy', () => {
  it('yields the current plan first, then a new plan when a pod resize moves the chunk size', async () => {
    const { fsRoot, write } = podTree(8 * GIB);
    const watch = watchPlans(fsRoot, 1_000_000, 2000);
    const first = await watch.next();
    // 75% of 8 GiB over a 2000-parameter row × 8 bytes × safety 5.
    expect(first.value).toMatchObject({
      decision: { strategy: 'out_of_core' },
      chunkPoints: Math.floor((0.75 * 8 * GIB) / (2000 * 8 * 5)),
    });
    write('memory.max', `${4 * GIB}\n`);
    const second = await watch.next();
    expect(second.value).toMatchObject({
      decision: { strategy: 'out_of_core' },
      chunkPoints: Math.floor((0.75 * 4 * GIB) / (2000 * 8 * 5)),
      chunkCount: Math.ceil(1_000_000 / Math.floor((0.75 * 4 * GIB) / (2000 * 8 * 5))),
    });
  });

  it('yields nothing new when a change leaves the strategy and the chunk size as they are', async () => {
    const { fsRoot, write } = podTree(8 * GIB);
    const watch = watchPlans(fsRoot, 23_000_000, 53);
    expect((await watch.next()).value?.chunkPoints).toBe(500_000);
    write('memory.max', `${6 * GIB}\n`); // still the 500,000 clamp
    write('memory.pressure', 'some avg10=55.00 avg60=0.00 avg300=0.00 total=9\n');
    let extra: IteratorResult<FitPlan> | 'none' = 'none';
    void watch.next().then((result) => {
      extra = result;
    });
    await settle();
    expect(extra).toBe('none');
  });

  it("re-plans with basis 'available' as usage grows, which raises no event", async () => {
    const { fsRoot, write } = podTree(8 * GIB);
    write('memory.current', `${GIB}\n`);
    const watch = watchPlans(fsRoot, 23_000_000, 53, { basis: 'available' });
    expect((await watch.next()).value?.decision.strategy).toBe('out_of_core');
    write('memory.current', `${8 * GIB - 64 * MIB}\n`);
    expect((await watch.next()).value).toMatchObject({
      decision: { strategy: 'hybrid_streaming' },
      thresholdBytes: Math.floor(0.75 * 64 * MIB),
    });
  });

  it('ends with the RangeError when not even one point fits any more', async () => {
    captureWarnings();
    const { fsRoot, write } = podTree(8 * GIB);
    const watch = watchPlans(fsRoot, 1_000_000, 100_000);
    expect((await watch.next()).done).toBe(false);
    write('memory.max', `${MIB}\n`);
    await expect(watch.next()).rejects.toThrow(RangeError);
    expect(await watch.next()).toEqual({ value: undefined, done: true });
  });

  it('checks sizes and options at the call, before any timer', () => {
    vi.useFakeTimers();
    expect(() => watchNlsqStrategy(-1, 5)).toThrow(/`nPoints`/);
    expect(() => watchNlsqStrategy(10, 5, { alignTo: 0 })).toThrow(/`alignTo`/);
    expect(() => watchNlsqStrategy(10, 5, { memoryFraction: Number.NaN })).toThrow(
      /`memoryFraction`/,
    );
    expect(() => watchNlsqStrategy(10, 5, { intervalMs: 1 })).toThrow(/`intervalMs`/);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('ends at once with an aborted signal, and plans from a given budget', async () => {
    const { fsRoot } = podTree(8 * GIB);
    const aborted = watchPlans(fsRoot, 10, 5, { signal: AbortSignal.abort() });
    expect(await aborted.next()).toEqual({ value: undefined, done: true });
    const given = watchPlans(fsRoot, 23_000_000, 53, { totalMemoryBytes: 64 * GIB, alignTo: 23 });
    expect((await given.next()).value).toMatchObject({ chunkPoints: 499_997, chunkCount: 47 });
  });
});
