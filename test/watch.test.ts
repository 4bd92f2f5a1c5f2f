import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type MemoryEvent,
  type MemoryWatch,
  type WatchOptions,
  watchMemory,
} from '../src/index.js';
import { parseEvents, parsePressure } from '../src/sources/pressure.js';
import { GIB, makeTree, mountLine, probesWith } from './helpers.js';

const HOST = 64 * GIB;
const INTERVAL = 50;
const psi = (some: number, full?: number) =>
  `some avg10=${some.toFixed(2)} avg60=0.00 avg300=0.00 total=1\n${
    full === undefined ? '' : `full avg10=${full.toFixed(2)} avg60=0.00 avg300=0.00 total=1\n`
  }`;
const events = (counts: Partial<Record<string, number>> = {}) =>
  ['low', 'high', 'max', 'oom', 'oom_kill', 'oom_group_kill']
    .map((key) => `${key} ${counts[key] ?? 0}`)
    .join('\n');

/** A pod: the limit and the files a watch reads sit at /sys/fs/cgroup/pod. */
function podTree(extra: Record<string, string> = {}) {
  const fsRoot = makeTree({
    'proc/self/cgroup': '0::/pod/ctr\n',
    'proc/self/mountinfo': `${mountLine(30, '/', '/sys/fs/cgroup', 'cgroup2', 'rw')}\n`,
    'sys/fs/cgroup/pod/memory.max': `${8 * GIB}\n`,
    'sys/fs/cgroup/pod/ctr/memory.max': 'max\n',
    ...extra,
  });
  const write = (path: string, text: string) => writeFileSync(join(fsRoot, path), text);
  return { fsRoot, write };
}

const opened: MemoryWatch<MemoryEvent>[] = [];
function watch(fsRoot: string, options: WatchOptions = {}) {
  const w = watchMemory({
    fsRoot,
    env: {},
    probes: probesWith(HOST),
    intervalMs: INTERVAL,
    refresh: true,
    ...options,
  });
  opened.push(w);
  return w;
}

afterEach(() => {
  for (const w of opened.splice(0)) w.close();
  vi.useRealTimers();
});

const unanswered = new WeakMap<MemoryWatch<MemoryEvent>, Promise<IteratorResult<MemoryEvent>>>();

/** The next event, or 'none' when nothing comes within `ms` (the same `next()` is awaited again later). */
async function nextWithin(w: MemoryWatch<MemoryEvent>, ms = INTERVAL * 6) {
  const next = unanswered.get(w) ?? w.next();
  unanswered.set(w, next);
  let timer: NodeJS.Timeout | undefined;
  const none = new Promise<'none'>((resolve) => {
    timer = setTimeout(() => resolve('none'), ms);
  });
  const result = await Promise.race([next, none]);
  clearTimeout(timer);
  if (result === 'none') return 'none';
  unanswered.delete(w);
  return result.done ? 'done' : result.value;
}

const ticks = (n: number) => new Promise((resolve) => setTimeout(resolve, INTERVAL * n));

describe('watchMemory', () => {
  it('yields one limit event when a pod is resized in place, and nothing while files stay', async () => {
    const { fsRoot, write } = podTree();
    const w = watch(fsRoot);
    expect(await nextWithin(w)).toBe('none');
    write('sys/fs/cgroup/pod/memory.max', `${4 * GIB}\n`);
    const event = await nextWithin(w);
    expect(event).toMatchObject({
      type: 'limit',
      previousBytes: 8 * GIB,
      report: { totalBytes: 4 * GIB, limitSource: 'cgroup-v2' },
    });
    expect(await nextWithin(w)).toBe('none');
  });

  it('yields a pressure event once per upward crossing, from a file with only a some line', async () => {
    const { fsRoot, write } = podTree({ 'sys/fs/cgroup/pod/memory.pressure': psi(0) });
    const w = watch(fsRoot, { pressureThreshold: 20 });
    await ticks(2);
    write('sys/fs/cgroup/pod/memory.pressure', psi(25));
    expect(await nextWithin(w)).toMatchObject({
      type: 'pressure',
      source: 'psi',
      level: 'some',
      value: 25,
    });
    write('sys/fs/cgroup/pod/memory.pressure', psi(40));
    expect(await nextWithin(w)).toBe('none');
    write('sys/fs/cgroup/pod/memory.pressure', psi(5));
    await ticks(2);
    write('sys/fs/cgroup/pod/memory.pressure', psi(30, 22));
    const first = await nextWithin(w);
    const second = await nextWithin(w);
    expect([first, second]).toMatchObject([
      { type: 'pressure', source: 'psi', level: 'some', value: 30 },
      { type: 'pressure', source: 'psi', level: 'full', value: 22 },
    ]);
  });

  it("reads the host's PSI only where there is no limit, and works without it", async () => {
    const fsRoot = makeTree({ 'proc/pressure/memory': psi(0, 0) });
    const write = (text: string) => writeFileSync(join(fsRoot, 'proc/pressure/memory'), text);
    const w = watch(fsRoot);
    await ticks(2);
    write(psi(12, 0));
    expect(await nextWithin(w)).toMatchObject({
      type: 'pressure',
      source: 'psi',
      level: 'some',
      value: 12,
      report: { limitBytes: null },
    });
    rmSync(join(fsRoot, 'proc/pressure/memory'));
    expect(await nextWithin(w)).toBe('none');
  });

  it("never labels the host's PSI as a limited cgroup's", async () => {
    const { fsRoot, write } = podTree({ 'proc/pressure/memory': psi(0, 0) });
    const w = watch(fsRoot);
    await ticks(2);
    write('proc/pressure/memory', psi(80, 60));
    expect(await nextWithin(w)).toBe('none');
  });

  it('yields the rise of memory.events counters', async () => {
    const { fsRoot, write } = podTree({ 'sys/fs/cgroup/pod/memory.events': events({ high: 3 }) });
    const w = watch(fsRoot);
    await ticks(2);
    write('sys/fs/cgroup/pod/memory.events', events({ high: 5, max: 1, oom: 1, oom_kill: 1 }));
    expect(await nextWithin(w)).toMatchObject({
      type: 'events',
      delta: { high: 2, max: 1, oom: 1, oom_kill: 1 },
      report: { limitBytes: 8 * GIB },
    });
    expect(await nextWithin(w)).toBe('none');
  });

  it('skips a poll that reads a half-written limit file, and never throws', async () => {
    const { fsRoot, write } = podTree();
    const w = watch(fsRoot, { intervalMs: 200 });
    await ticks(1);
    write('sys/fs/cgroup/pod/memory.max', '');
    await new Promise((resolve) => setTimeout(resolve, 250));
    write('sys/fs/cgroup/pod/memory.max', `${6 * GIB}\n`);
    const event = await nextWithin(w, 600);
    expect(event).toMatchObject({ type: 'limit', previousBytes: 8 * GIB });
    expect((event as Extract<MemoryEvent, { type: 'limit' }>).report.totalBytes).toBe(6 * GIB);
  });

  it('skips a garbled limit file for as long as it stays garbled', async () => {
    const { fsRoot, write } = podTree();
    const w = watch(fsRoot);
    await ticks(1);
    write('sys/fs/cgroup/pod/memory.max', 'garbage\n');
    expect(await nextWithin(w, INTERVAL * 8)).toBe('none');
    write('sys/fs/cgroup/pod/memory.max', `${6 * GIB}\n`);
    expect(await nextWithin(w)).toMatchObject({
      type: 'limit',
      previousBytes: 8 * GIB,
      report: { totalBytes: 6 * GIB },
    });
  });

  it('reports a removed limit once the file stays gone', async () => {
    const { fsRoot } = podTree();
    const w = watch(fsRoot);
    await ticks(1);
    rmSync(join(fsRoot, 'sys/fs/cgroup/pod/memory.max'));
    expect(await nextWithin(w)).toMatchObject({
      type: 'limit',
      previousBytes: 8 * GIB,
      report: { totalBytes: HOST, limitBytes: null },
    });
  });
});

describe('a reader that falls behind', () => {
  it('gets the present: one limit event from the first total to the last, counters summed', async () => {
    const { fsRoot, write } = podTree({ 'sys/fs/cgroup/pod/memory.events': events() });
    const w = watch(fsRoot);
    await ticks(2);
    for (const [gib, max] of [
      [2, 1],
      [1, 3],
      [4, 7],
    ] as const) {
      write('sys/fs/cgroup/pod/memory.max', `${gib * GIB}\n`);
      write('sys/fs/cgroup/pod/memory.events', events({ max, oom_kill: max > 2 ? 1 : 0 }));
      await ticks(2);
    }
    expect(await nextWithin(w)).toMatchObject({
      type: 'limit',
      previousBytes: 8 * GIB,
      report: { totalBytes: 4 * GIB },
    });
    expect(await nextWithin(w)).toMatchObject({ type: 'events', delta: { max: 7, oom_kill: 1 } });
    expect(await nextWithin(w)).toBe('none');
  });

  it('gets no limit event when the limit came back to where it was', async () => {
    const { fsRoot, write } = podTree();
    const w = watch(fsRoot);
    await ticks(2);
    write('sys/fs/cgroup/pod/memory.max', `${2 * GIB}\n`);
    await ticks(3);
    write('sys/fs/cgroup/pod/memory.max', `${8 * GIB}\n`);
    await ticks(3);
    expect(await nextWithin(w)).toBe('none');
  });
});

describe('a moved or removed cgroup', () => {
  it('is located again when the process moves, and the watch goes on', async () => {
    const { fsRoot, write } = podTree({
      'sys/fs/cgroup/other/memory.max': `${3 * GIB}\n`,
    });
    const w = watch(fsRoot);
    await ticks(2);
    write('proc/self/cgroup', '0::/other\n');
    rmSync(join(fsRoot, 'sys/fs/cgroup/pod'), { recursive: true });
    const event = await nextWithin(w, INTERVAL * 10);
    expect(event).toMatchObject({ type: 'limit', previousBytes: 8 * GIB });
    expect((event as Extract<MemoryEvent, { type: 'limit' }>).report).toMatchObject({
      totalBytes: 3 * GIB,
      limitOrigin: join(fsRoot, 'sys/fs/cgroup/other/memory.max'),
    });
  });
});

describe('ending a watch', () => {
  it('ends one loop on break, all of them on close(), which resolves a pending next()', async () => {
    const { fsRoot, write } = podTree();
    const w = watch(fsRoot);
    setTimeout(() => write('sys/fs/cgroup/pod/memory.max', `${2 * GIB}\n`), INTERVAL * 2);
    const second = w[Symbol.asyncIterator]();
    for await (const event of w) {
      expect(event.type).toBe('limit');
      break;
    }
    // The other consumer saw the change too, and goes on after the first one's break.
    expect(await second.next()).toMatchObject({ value: { type: 'limit' }, done: false });
    write('sys/fs/cgroup/pod/memory.max', `${3 * GIB}\n`);
    expect(await second.next()).toMatchObject({ value: { previousBytes: 2 * GIB } });
    const pendingSecond = second.next();
    w.close();
    expect(await pendingSecond).toEqual({ value: undefined, done: true });
    expect(await w.next()).toEqual({ value: undefined, done: true });
    const other = watch(fsRoot);
    const pending = other.next();
    other.close();
    other.close();
    expect(await pending).toEqual({ value: undefined, done: true });
  });

  it('ends on abort, cleanly, and at once when already aborted', async () => {
    const { fsRoot } = podTree();
    const controller = new AbortController();
    const w = watch(fsRoot, { signal: controller.signal });
    const pending = w.next();
    controller.abort();
    expect(await pending).toEqual({ value: undefined, done: true });
    const aborted = watch(fsRoot, { signal: AbortSignal.abort() });
    expect(await aborted.next()).toEqual({ value: undefined, done: true });
  });
});

describe('watch options', () => {
  it.each([
    [{ intervalMs: 10 }, RangeError, /`intervalMs` to be a number from 50 to 2147483647, got 10/],
    [{ intervalMs: 2 ** 31 }, RangeError, /`intervalMs`/],
    [{ intervalMs: Number.NaN }, RangeError, /`intervalMs` to be a finite number, got NaN/],
    [{ intervalMs: '100' }, TypeError, /`intervalMs`/],
    [{ signal: {} }, TypeError, /`signal` to be an AbortSignal, got \{\}/],
    [{ pressureThreshold: -1 }, RangeError, /`pressureThreshold`/],
    [{ pressureThreshold: 101 }, RangeError, /number from 0 to 100, got 101/],
    [{ workingSetThreshold: 0 }, RangeError, /`workingSetThreshold` to be above 0, got 0/],
    [{ workingSetThreshold: 1.5 }, RangeError, /`workingSetThreshold` to be a number from 0 to 1/],
    [{ workingSetThreshold: Number.POSITIVE_INFINITY }, RangeError, /`workingSetThreshold`/],
    [
      { headroomThreshold: 1 },
      RangeError,
      /`headroomThreshold` to be a number from 0 to below 1, got 1/,
    ],
    [{ headroomThreshold: -0.01 }, RangeError, /`headroomThreshold`/],
    [{ headroomThreshold: '0.05' }, TypeError, /`headroomThreshold`/],
    [{ intervalMS: 100 }, TypeError, /Unknown option `intervalMS`: did you mean `intervalMs`\?/],
    [{ fsRoot: '' }, RangeError, /`fsRoot`/],
  ])('rejects %o at the call, before any timer', (options, type, message) => {
    vi.useFakeTimers();
    expect(() => watchMemory(options as WatchOptions)).toThrow(type);
    expect(() => watchMemory(options as WatchOptions)).toThrow(message);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('checks the detection options even when the signal is already aborted', () => {
    expect(() => watchMemory({ signal: AbortSignal.abort(), fsRoot: 5 as never })).toThrow(
      /`fsRoot` to be a non-empty string, got 5/,
    );
  });

  it('rejects options that are not an object', () => {
    expect(() => watchMemory(5 as never)).toThrow(/`options` to be an object, got 5/);
  });

  it('takes null for the defaults', () => {
    const w = watchMemory({
      fsRoot: makeTree({}),
      env: {},
      probes: probesWith(HOST),
      intervalMs: null,
      signal: null,
      pressureThreshold: null,
      workingSetThreshold: null,
      headroomThreshold: null,
    });
    w.close();
    watchMemory(null).close();
  });
});

describe('PSI and memory.events files', () => {
  it.each([
    ['', undefined],
    ['garbage\n', undefined],
    ['some avg10=abc avg60=0.00\n', undefined],
    ['full avg10=3.50 avg60=0.00 avg300=0.00 total=9\n', { some: undefined, full: 3.5 }],
  ])('parses %j', (text, expected) => {
    expect(parsePressure(text)).toEqual(expected);
  });

  it.each([
    ['low 0\nhigh 1\nmax 2\noom 3\n', undefined],
    ['high 1\nmax 2\noom x\noom_kill 4\n', undefined],
    ['high 1 2\nmax 2\noom 3\noom_kill 4\n', undefined],
    [
      'low 0\nhigh 1\nmax 2\noom 3\noom_kill 4\noom_group_kill 0\n',
      { high: 1, max: 2, oom: 3, oom_kill: 4 },
    ],
  ])('parses memory.events %j', (text, expected) => {
    expect(parseEvents(text)).toEqual(expected);
  });
});
