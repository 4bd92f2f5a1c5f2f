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
    // 75% of 8 GiB less the index array, over a 2000-parameter row × 8 bytes × the overhead 6.5.
    expect(first.value).toMatchObject({
      decision: { strategy: 'out_of_core' },
      chunkPoints: Math.floor((0.75 * 8 * GIB - 1_000_000 * 8) / (2000 * 8 * 6.5)),
    });
    write('memory.max', `${4 * GIB}\n`);
    const second = await watch.next();
    expect(second.value).toMatchObject({
      decision: { strategy: 'out_of_core' },
      chunkPoints: Math.floor((0.75 * 4 * GIB - 1_000_000 * 8) / (2000 * 8 * 6.5)),
      chunkCount: Math.ceil(
        1_000_000 / Math.floor((0.75 * 4 * GIB - 1_000_000 * 8) / (2000 * 8 * 6.5)),
      ),
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

  it('waits, with a warning, while not even one point fits, and goes on once one does', async () => {
    const warnings = captureWarnings();
    const { fsRoot, write } = podTree(8 * GIB);
    const watch = watchPlans(fsRoot, 1_000_000, 100_000);
    const first = (await watch.next()).value;
    write('memory.max', `${MIB}\n`);
    const next = watch.next();
    await settle();
    expect(warnings.map((warning) => warning.code)).toContain('NLSQ_MEMORY_BUDGET_EXHAUSTED');
    write('memory.max', `${4 * GIB}\n`);
    const plan = (await next).value;
    expect(plan?.thresholdBytes).toBe(3 * GIB);
    expect(plan?.chunkPoints).toBeLessThan(first?.chunkPoints ?? 0);
  });

  it('survives headroom 0 under basis available: the budget is 0, not 75% of the total', async () => {
    const warnings = captureWarnings();
    const { fsRoot, write } = podTree(8 * GIB);
    write('memory.current', `${GIB}\n`);
    const watch = watchPlans(fsRoot, 10_000_000, 2000, { basis: 'available' });
    expect((await watch.next()).value?.thresholdBytes).toBe(Math.floor(0.75 * 7 * GIB));
    write('memory.current', `${8 * GIB}\n`);
    const next = watch.next();
    await settle();
    expect(warnings.map((warning) => warning.code)).toContain('NLSQ_MEMORY_BUDGET_EXHAUSTED');
    write('memory.current', `${6 * GIB}\n`);
    expect((await next).value?.thresholdBytes).toBe(Math.floor(0.75 * 2 * GIB));
  });

  it('starts a new loop with nothing while no plan fits, not with the last plan', async () => {
    captureWarnings();
    const { fsRoot, write } = podTree(GIB);
    write('memory.current', `${512 * MIB}\n`);
    const watch = watchPlans(fsRoot, 10_000_000, 2000, { basis: 'available' });
    await watch.next();
    write('memory.current', `${GIB}\n`);
    await settle();
    const late = watch[Symbol.asyncIterator]();
    let first: IteratorResult<FitPlan> | 'none' = 'none';
    void late.next().then((result) => {
      first = result;
    });
    await settle();
    expect(first).toBe('none');
    write('memory.current', `${256 * MIB}\n`);
    await vi.waitFor(() => expect(first).not.toBe('none'));
    expect((first as unknown as IteratorResult<FitPlan>).value?.thresholdBytes).toBe(
      Math.floor(0.75 * 768 * MIB),
    );
  });

  it('rejects its loops when not even the whole budget holds one point, as planNlsqFit throws', async () => {
    const { fsRoot } = podTree(GIB);
    const watch = watchPlans(fsRoot, 10_000_000, 2000, { alignTo: 1_000_000 });
    await expect(watch.next()).rejects.toThrow(/Not even 1,000,000 points \(alignTo\) fit/);
    expect(await watch.next()).toEqual({ value: undefined, done: true });
  });

  it('yields a new plan only when the chunk moves by minChange of the last one', async () => {
    const { fsRoot, write } = podTree(8 * GIB);
    // out_of_core chunks of (0.75 × limit − the index array) / (2000 × 8 × 6.5) points.
    const watch = watchPlans(fsRoot, 10_000_000, 2000, { minChange: 0.25 });
    const chunk = (limit: number) => Math.floor((0.75 * limit - 10_000_000 * 8) / (2000 * 8 * 6.5));
    expect((await watch.next()).value?.chunkPoints).toBe(chunk(8 * GIB));
    const next = watch.next();
    write('memory.max', `${7 * GIB}\n`); // -12.7%: too little
    await settle();
    write('memory.max', `${6.5 * GIB}\n`); // -19.0% of the plan yielded: still too little
    await settle();
    write('memory.max', `${6 * GIB}\n`); // -25.3%
    expect((await next).value?.chunkPoints).toBe(chunk(6 * GIB));
  });

  it('yields every move of the chunk with minChange 0', async () => {
    const { fsRoot, write } = podTree(8 * GIB);
    const watch = watchPlans(fsRoot, 10_000_000, 2000, { minChange: 0 });
    await watch.next();
    write('memory.max', `${8 * GIB - 64 * MIB}\n`);
    expect((await watch.next()).value?.thresholdBytes).toBe(
      Math.floor(0.75 * (8 * GIB - 64 * MIB)),
    );
  });

  it('gives a late reader the latest plan only, never a queue of stale ones', async () => {
    const { fsRoot, write } = podTree(8 * GIB);
    const watch = watchPlans(fsRoot, 10_000_000, 2000);
    await watch.next();
    for (const gib of [2, 1, 8, 1]) {
      write('memory.max', `${gib * GIB}\n`);
      await settle(2);
    }
    expect((await watch.next()).value?.thresholdBytes).toBe(Math.floor(0.75 * GIB));
    let extra: IteratorResult<FitPlan> | 'none' = 'none';
    void watch.next().then((result) => {
      extra = result;
    });
    await settle();
    expect(extra).toBe('none');
  });

  it('gives each loop every plan, a loop that starts late the current one first', async () => {
    const { fsRoot, write } = podTree(8 * GIB);
    const watch = watchPlans(fsRoot, 10_000_000, 2000);
    const one = watch[Symbol.asyncIterator]();
    expect((await one.next()).value?.thresholdBytes).toBe(6 * GIB);
    write('memory.max', `${4 * GIB}\n`);
    expect((await one.next()).value?.thresholdBytes).toBe(3 * GIB);
    const two = watch[Symbol.asyncIterator]();
    expect((await two.next()).value?.thresholdBytes).toBe(3 * GIB);
    write('memory.max', `${2 * GIB}\n`);
    const [a, b] = await Promise.all([one.next(), two.next()]);
    expect(a.value?.thresholdBytes).toBe(1.5 * GIB);
    expect(b.value).toBe(a.value);
    await one.return?.();
    write('memory.max', `${GIB}\n`);
    expect((await two.next()).value?.thresholdBytes).toBe(0.75 * GIB);
  });

  it.each([
    [{ minChange: 1 }, RangeError, /`minChange` to be a number from 0 to below 1, got 1/],
    [{ minChange: -0.1 }, RangeError, /`minChange`/],
    [{ minChange: Number.NaN }, RangeError, /`minChange` to be a finite number/],
    [{ minChange: '0.1' }, TypeError, /`minChange`/],
    [{ workingSetThreshold: 2 }, RangeError, /`workingSetThreshold`/],
    [{ align: 23 }, TypeError, /Unknown option `align`: did you mean `alignTo`\?/],
    [{ report: {} }, TypeError, /`report` not to be given to watchNlsqStrategy/],
    [
      { devices: [] },
      TypeError,
      /`devices` not to be given to watchNlsqStrategy, which watches host/,
    ],
    [{ deviceTimeoutMs: 5 }, TypeError, /`deviceTimeoutMs` not to be given/],
  ])('rejects %o at the call, before any timer', (options, type, message) => {
    vi.useFakeTimers();
    const call = () => watchNlsqStrategy(10, 5, options as never);
    expect(call).toThrow(type);
    expect(call).toThrow(message);
    expect(vi.getTimerCount()).toBe(0);
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
