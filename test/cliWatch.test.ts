import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { run } from './cliRun.js';
import { GIB, makeTree, mountLine } from './helpers.js';

function pod() {
  const fsRoot = makeTree({
    'proc/self/cgroup': '0::/\n',
    'proc/self/mountinfo': `${mountLine(30, '/', '/sys/fs/cgroup', 'cgroup2', 'rw')}\n`,
    'sys/fs/cgroup/memory.max': `${8 * GIB}\n`,
  });
  return {
    fsRoot,
    resize: (bytes: number) =>
      writeFileSync(join(fsRoot, 'sys/fs/cgroup/memory.max'), `${bytes}\n`),
  };
}

/** Runs `--watch` until `until` is printed (a limit change), then stops it as Ctrl-C would. */
async function watchOnce(argv: string[], until = /"type":"limit"|Z limit /, interactive = false) {
  const { fsRoot, resize } = pod();
  const stop = new AbortController();
  let printed = '';
  const running = run(['--watch', '--interval', '50', ...argv], {
    fsRoot,
    interactive,
    signal: stop.signal,
    stdout: (text) => {
      printed += text;
      if (until.test(printed)) stop.abort();
    },
  });
  setTimeout(() => resize(4 * GIB), 150);
  const { code, stderr } = await running;
  return { code, stderr, lines: printed.trimEnd().split('\n') };
}

describe('nlsq-memory --watch', () => {
  it('prints the report, then a line per change, and ends with 0 when stopped', async () => {
    const { code, stderr, lines } = await watchOnce([]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(lines).toContainEqual(
      expect.stringMatching(/^Limit {10}8\.00 GB \(cgroup-v2: .*memory\.max\)$/),
    );
    expect(lines.at(-1)).toMatch(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z limit 8\.00 GB -> 4\.00 GB \(cgroup-v2: .*memory\.max\)$/,
    );
  });

  it('prints one JSON object per line with --json', async () => {
    const { code, lines } = await watchOnce(['--json']);
    expect(code).toBe(0);
    const [first, ...events] = lines.map((line) => JSON.parse(line));
    expect(first.memory).toMatchObject({ totalBytes: 8 * GIB });
    expect(events).toMatchObject([
      { type: 'limit', previousBytes: 8 * GIB, report: { totalBytes: 4 * GIB } },
    ]);
    expect(typeof events[0].time).toBe('string');
  });

  it('prints each new plan in one line, old and new chunk size, beside the memory events', async () => {
    const sizes = ['--points', '1e7', '--params', '2000', '--plan'];
    const { code, stderr, lines } = await watchOnce(sizes, /Z plan /);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const chunk = (gib: number) =>
      Math.floor((0.75 * gib * GIB - 1e7 * 8) / (2000 * 8 * 6.5)).toLocaleString('en-US');
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^Chunk +${chunk(8)} points`)));
    expect(lines.at(-1)).toMatch(
      new RegExp(
        `Z plan out_of_core ${chunk(8)} -> out_of_core ${chunk(4)} points per chunk \\(budget 3\\.00 GB, Jacobian [\\d.]+ GB\\)$`,
      ),
    );
  });

  it('without --plan, prints a plan only once it changes: the first one is the baseline', async () => {
    const sizes = ['--points', '1e7', '--params', '2000'];
    const { code, lines } = await watchOnce(sizes, /Z plan /);
    expect(code).toBe(0);
    const plans = lines.filter((line) => / plan /.test(line));
    expect(plans).toHaveLength(1);
    expect(plans[0]).toMatch(
      /Z plan out_of_core [\d,]+ -> out_of_core [\d,]+ points per chunk \(budget 3\.00 GB, /,
    );
    // The limit's line comes first or beside it: nothing was printed as a change before it.
    const first = lines.findIndex((line) => /Z (plan|limit) /.test(line));
    expect(lines.slice(first).every((line) => /Z (plan|limit) /.test(line))).toBe(true);
  });

  it('says with --device that no new plan will be printed: the watch follows host memory', async () => {
    const sizes = ['--points', '1e7', '--params', '2000', '--device', '0'];
    const { fsRoot } = pod();
    const stop = new AbortController();
    const running = run(['--watch', '--interval', '50', '--total-memory-gb', '8', ...sizes], {
      fsRoot,
      signal: stop.signal,
    });
    setTimeout(() => stop.abort(), 200);
    const { code, stderr } = await running;
    expect(code).toBe(0);
    expect(stderr).toContain(
      'nlsq-memory: --watch follows host memory, not a GPU: with --device, no new plan is printed\n',
    );
  });

  it('prints each new plan as a JSON line with --json', async () => {
    const sizes = ['--points', '1e7', '--params', '2000', '--plan', '--json'];
    const { code, lines } = await watchOnce(sizes, /"type":"plan"/);
    expect(code).toBe(0);
    const [first, ...rest] = lines.map((line) => JSON.parse(line));
    expect(first.plan).toMatchObject({ thresholdBytes: 6 * GIB });
    expect(rest.at(-1)).toMatchObject({ type: 'plan', thresholdBytes: 3 * GIB, workers: 1 });
    expect(rest).toContainEqual(expect.objectContaining({ type: 'limit' }));
  });

  it('says on a terminal that it watches, and how to stop', async () => {
    const { stderr } = await watchOnce([], /Z limit /, true);
    expect(stderr).toBe('nlsq-memory: watching for changes of the memory; Ctrl-C stops\n');
  });

  it('takes --interval only with --watch, and at least 50', async () => {
    expect((await run(['--interval', '100'])).stderr).toContain('--interval goes with --watch');
    expect((await run(['--watch', '--interval', '10'])).stderr).toContain(
      '--interval must be an integer of at least 50, got "10"',
    );
  });

  it('ends with 0 on Ctrl-C, as the built command', async () => {
    const cli = fileURLToPath(new URL('../dist/cli.cjs', import.meta.url));
    const child = spawn(
      process.execPath,
      [cli, '--watch', '--interval', '50', '--total-memory-gb', '8'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (stdout.includes('Threshold')) child.kill('SIGINT');
    });
    const code = await new Promise((resolve) => child.on('exit', (status) => resolve(status)));
    expect(code).toBe(0);
    expect(stdout).toContain('Threshold      6.00 GB');
  });
});
