// The watch under real kernel limits: a child memory cgroup made below this process's own, a
// watcher and a greedy sibling started in it. Fake trees cannot show what the kernel does. These
// run as root on Linux (CI runs them with sudo on cgroup v2; this machine may be v1) and skip,
// saying why, anywhere else.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { childCgroup, type KernelCgroup, lines } from './support/kernel.js';

const MIB = 1024 ** 2;
const INTERVAL = 200;
const dist = pathToFileURL(fileURLToPath(new URL('../dist/index.js', import.meta.url))).href;

// A watcher: both watches over one cgroup, one JSON line per event or plan, until killed. Its
// loops alone keep it alive.
const watcher = join(mkdtempSync(join(tmpdir(), 'nlsq-memory-kernel-')), 'watcher.mjs');
writeFileSync(
  watcher,
  `const { watchMemory, watchNlsqStrategy } = await import(${JSON.stringify(dist)});
const [interval, points, params, basis] = process.argv.slice(2);
const intervalMs = Number(interval);
const print = (line) => console.log(JSON.stringify({ at: Date.now(), ...line }));
await Promise.all([
  (async () => {
    for await (const e of watchMemory({ intervalMs })) {
      print({ kind: 'event', type: e.type, source: e.source, delta: e.delta, totalBytes: e.report.totalBytes });
    }
  })(),
  (async () => {
    for await (const p of watchNlsqStrategy(Number(points), Number(params), { intervalMs, basis })) {
      print({ kind: 'plan', strategy: p.decision.strategy, chunkPoints: p.chunkPoints, thresholdBytes: p.thresholdBytes });
    }
  })(),
]);
`,
);

/** A process that takes memory until the kernel kills it: `mib` every 20 ms, so that polls see it fill. */
const greedy = (mib = 4) => [
  '-e',
  `const held = []; setInterval(() => held.push(Buffer.alloc(${mib} << 20, 1)), 20);`,
];

const made: KernelCgroup[] = [];
afterEach(async () => {
  for (const cgroup of made.splice(0)) await cgroup.remove();
});

/** A child cgroup limited to `limitBytes`, or a skip that says why there can be none here. */
function cgroupOrSkip(limitBytes: number, skip: (note: string) => never): KernelCgroup {
  const cgroup = childCgroup(limitBytes);
  if (typeof cgroup === 'string') {
    console.warn(`real-kernel test skipped: ${cgroup}`);
    skip(cgroup);
  }
  made.push(cgroup);
  return cgroup;
}

const parse = (line: string) => JSON.parse(line) as Record<string, unknown> & { at: number };
const isPlan = (line: string) => parse(line).kind === 'plan';

describe('under a real kernel limit', () => {
  it('a limit change is seen by both watches within two intervals', async (context) => {
    const cgroup = cgroupOrSkip(512 * MIB, context.skip);
    const child = cgroup.node([watcher, String(INTERVAL), '10000000', '2000', 'total']);
    const printed = lines(child);
    const first = parse(await printed.next(isPlan));
    expect(first.thresholdBytes).toBe(Math.floor(0.75 * 512 * MIB));
    const changed = Date.now();
    cgroup.setLimit(256 * MIB);
    const event = parse(await printed.next((line) => parse(line).type === 'limit'));
    const plan = parse(
      await printed.next(
        (line) => isPlan(line) && parse(line).thresholdBytes !== first.thresholdBytes,
      ),
    );
    expect(event).toMatchObject({ totalBytes: 256 * MIB });
    expect(plan).toMatchObject({ thresholdBytes: Math.floor(0.75 * 256 * MIB) });
    // Two polls, and what it takes a busy machine to schedule a process.
    for (const seen of [event, plan]) expect(seen.at - changed).toBeLessThan(2 * INTERVAL + 400);
  });

  it("a sibling's OOM kill is seen as events, and the watch goes on", async (context) => {
    const cgroup = cgroupOrSkip(256 * MIB, context.skip);
    const child = cgroup.node([watcher, '50', '1000', '10', 'total']);
    const printed = lines(child);
    await printed.next(isPlan);
    const sibling = cgroup.node(greedy());
    const killed = new Promise((resolve) => sibling.once('close', (_, signal) => resolve(signal)));
    const events = parse(
      await printed.next((line) => {
        const { type, delta } = parse(line) as { type?: string; delta?: { oom_kill: number } };
        return type === 'events' && (delta?.oom_kill ?? 0) >= 1;
      }),
    );
    expect(await killed).toBe('SIGKILL');
    expect(events.delta).toMatchObject({ max: expect.any(Number) });
    expect((events.delta as { max: number }).max).toBeGreaterThan(0);
    expect(child.exitCode).toBeNull();
  });

  it('a plan watch outlives a budget exhausted by a sibling, and re-plans after', async (context) => {
    const cgroup = cgroupOrSkip(256 * MIB, context.skip);
    // A row of 1,000,000 parameters is 8 MB: it fits what is free now, not a full cgroup.
    const child = cgroup.node([watcher, '50', '10000000', '1000000', 'available']);
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    const printed = lines(child);
    await printed.next(isPlan);
    // 1 MiB every 20 ms: the last 5% of the cgroup (12.8 MiB) lasts about five polls.
    const sibling = cgroup.node(greedy(1));
    await new Promise((resolve) => sibling.once('close', resolve));
    await vi.waitFor(() => expect(stderr).toContain('NLSQ_MEMORY_BUDGET_EXHAUSTED'));
    // The memory watch says so too: nothing is left, as the kernel counts it, before the kill.
    const headroom = printed.all.map(parse).find((line) => line.source === 'headroom');
    expect(headroom).toMatchObject({ kind: 'event', type: 'pressure' });
    expect(child.exitCode).toBeNull();
    const before = printed.all.filter(isPlan).length;
    cgroup.setLimit(1024 * MIB);
    await printed.next((line) => isPlan(line) && printed.all.filter(isPlan).length > before);
  });
});
