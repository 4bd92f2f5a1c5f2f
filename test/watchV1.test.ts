// The watch on cgroup v1, where counters are `memory.failcnt` and `memory.oom_control`, and the
// limit has no PSI of its own: pressure is the working set against the limit.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type MemoryEvent, type MemoryWatch, watchMemory } from '../src/index.js';
import { GIB, MIB, makeTree, memoryStat, mountLine, probesWith } from './helpers.js';

const INTERVAL = 50;
const oomControl = (kills: number) => `oom_kill_disable 0\nunder_oom 0\noom_kill ${kills}\n`;

/** A Slurm job on a v1 host: the 1 GiB limit on the job, the process in its step. */
function v1Tree() {
  const job = 'sys/fs/cgroup/memory/slurm/job_7';
  const fsRoot = makeTree({
    'proc/self/cgroup': '4:memory:/slurm/job_7/step_0\n0::/\n',
    'proc/self/mountinfo': [
      mountLine(35, '/', '/sys/fs/cgroup/memory', 'cgroup', 'rw,memory'),
      mountLine(41, '/', '/sys/fs/cgroup/unified', 'cgroup2', 'rw'),
    ].join('\n'),
    // The hybrid host's unified tree has no memory controller: it locates nothing.
    'sys/fs/cgroup/unified/cgroup.controllers': 'hugetlb\n',
    'sys/fs/cgroup/unified/memory.pressure': 'some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n',
    'proc/pressure/memory': 'some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n',
    [`${job}/memory.limit_in_bytes`]: `${GIB}\n`,
    [`${job}/memory.usage_in_bytes`]: `${256 * MIB}\n`,
    [`${job}/memory.stat`]: memoryStat({ total_inactive_file: 0 }),
    [`${job}/memory.failcnt`]: '0\n',
    [`${job}/memory.oom_control`]: oomControl(0),
    [`${job}/step_0/memory.limit_in_bytes`]: '9223372036854771712\n',
    [`${job}/step_0/memory.usage_in_bytes`]: `${128 * MIB}\n`,
  });
  return {
    fsRoot,
    write: (file: string, text: string) => writeFileSync(join(fsRoot, job, file), text),
  };
}

const opened: MemoryWatch<MemoryEvent>[] = [];
afterEach(() => {
  for (const watch of opened.splice(0)) watch.close();
});

function watch(fsRoot: string) {
  const w = watchMemory({ fsRoot, env: {}, probes: probesWith(64 * GIB), intervalMs: INTERVAL });
  opened.push(w);
  return w;
}

const settle = (n = 3) => new Promise((resolve) => setTimeout(resolve, INTERVAL * n));

describe('watchMemory on cgroup v1', () => {
  it('reports failcnt as `max` and oom_kill of the limiting cgroup, when a sibling is killed', async () => {
    const { fsRoot, write } = v1Tree();
    const w = watch(fsRoot);
    await settle();
    write('memory.failcnt', '2800\n');
    write('memory.oom_control', oomControl(1));
    expect(await w.next()).toMatchObject({
      value: {
        type: 'events',
        delta: { high: 0, max: 2800, oom: 0, oom_kill: 1 },
        report: { limitBytes: GIB, limitSource: 'cgroup-v1' },
      },
    });
  });

  it('takes a failcnt reset to 0 as a new count, not an event', async () => {
    const { fsRoot, write } = v1Tree();
    write('memory.failcnt', '50\n');
    const w = watch(fsRoot);
    await settle();
    write('memory.failcnt', '0\n');
    await settle();
    write('memory.failcnt', '3\n');
    expect((await w.next()).value).toMatchObject({ type: 'events', delta: { max: 3 } });
  });

  it('reports the working set crossing 90% of the limit, once per crossing', async () => {
    const { fsRoot, write } = v1Tree();
    const w = watch(fsRoot);
    await settle();
    const use = (fraction: number) =>
      write('memory.usage_in_bytes', `${Math.round(fraction * GIB)}\n`);
    use(0.93);
    expect((await w.next()).value).toMatchObject({
      type: 'pressure',
      source: 'working-set',
      level: null,
      value: expect.closeTo(0.93, 9),
    });
    use(0.94);
    const again = w.next();
    await settle();
    use(0.5);
    await settle();
    use(0.92);
    expect((await again).value).toMatchObject({
      source: 'working-set',
      value: expect.closeTo(0.92, 9),
    });
  });

  it("never reports the host's or the unified root's PSI for a limited cgroup", async () => {
    const { fsRoot } = v1Tree();
    const w = watch(fsRoot);
    await settle();
    const busy = 'some avg10=90.00 avg60=0.00 avg300=0.00 total=9\n';
    writeFileSync(join(fsRoot, 'proc/pressure/memory'), busy);
    writeFileSync(join(fsRoot, 'sys/fs/cgroup/unified/memory.pressure'), busy);
    let next: unknown = 'none';
    void w.next().then((result) => {
      next = result;
    });
    await settle(4);
    expect(next).toBe('none');
  });

  it('reports headroom as pressure once it is down to headroomThreshold of the total', async () => {
    const { fsRoot, write } = v1Tree();
    const w = watchMemory({
      fsRoot,
      env: {},
      probes: probesWith(64 * GIB),
      intervalMs: INTERVAL,
      headroomThreshold: 0.1,
      workingSetThreshold: 1,
    });
    opened.push(w);
    await settle();
    // 11% left: above the threshold, nothing; 96 MiB left of 1 GiB (9.4%): pressure.
    write('memory.usage_in_bytes', `${Math.round(0.89 * GIB)}\n`);
    await settle();
    write('memory.usage_in_bytes', `${GIB - 96 * MIB}\n`);
    expect((await w.next()).value).toMatchObject({
      type: 'pressure',
      source: 'headroom',
      level: null,
      value: 96 * MIB,
      report: { availableBytes: 96 * MIB },
    });
  });

  it('reports headroom 0 as pressure when nothing is left', async () => {
    const { fsRoot, write } = v1Tree();
    const w = watch(fsRoot);
    await settle();
    write('memory.usage_in_bytes', `${GIB}\n`);
    const events = [(await w.next()).value, (await w.next()).value];
    expect(events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ source: 'working-set', value: 1 }),
        expect.objectContaining({
          source: 'headroom',
          value: 0,
          report: expect.objectContaining({ availableBytes: 0 }),
        }),
      ]),
    );
  });
});
