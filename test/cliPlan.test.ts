import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planNlsqFitSync, recordFitPeak } from '../src/index.js';
import { run } from './cliRun.js';
import { GIB, makeTree } from './helpers.js';

const sizes = ['--points', '23e6', '--params', '53', '--total-memory-gb', '64'];

describe('nlsq-memory --plan', () => {
  it('prints the plan below the decision', async () => {
    const { code, stdout, stderr } = await run([...sizes, '--plan', '--align', '23']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain('Strategy       out_of_core\n');
    expect(stdout).toContain('Workers        1\n');
    expect(stdout).toContain('Budget/worker  48.00 GB\n');
    expect(stdout).toContain('Chunk          499,997 points, Jacobian 0.20 GB: why, see Plan\n');
    expect(stdout).toContain('Chunks         47\n');
    expect(stdout).toMatch(/^Plan {11}Chunks of 499,997 points, .*a multiple of 23/m);
  });

  it('takes --workers and --align as asking for the plan, and auto from Slurm', async () => {
    const env = { SLURM_TASKS_PER_NODE: '2(x3),1', SLURM_NODEID: '3' };
    const one = await run([...sizes, '--workers', 'auto'], { env });
    expect(one.stdout).toContain('Workers        1\n');
    const four = await run([...sizes, '--workers', '4', '--json']);
    const shown = JSON.parse(four.stdout);
    expect(shown.plan).toMatchObject({ workers: 4, thresholdBytes: 12 * 1024 ** 3 });
    // The decision is given once, before the plan; keys in one order, whatever is asked.
    expect(shown.plan.decision).toBeUndefined();
    expect(shown.decision.reason).toMatch(/per worker of 4\)$/);
    expect(Object.keys(shown)).toEqual(['memory', 'devices', 'threshold', 'decision', 'plan']);
    const decided = JSON.parse((await run([...sizes, '--json'])).stdout);
    expect(Object.keys(decided)).toEqual(['memory', 'devices', 'threshold', 'decision']);
    const aligned = await run([...sizes, '--align', '1_000']);
    expect(aligned.stdout).toContain('Chunk          500,000 points');
  });

  it.each([
    [['--plan'], '--plan needs --points and --params'],
    [['--workers', '2', '--align', '23'], '--workers and --align need --points and --params'],
    [
      ['--plan', '--key', 'k', '--max-chunk', '9'],
      '--plan, --key and --max-chunk need --points and --params',
    ],
    [[...sizes, '--workers', '0'], `--workers must be 'auto' or a positive integer, got "0"`],
    [[...sizes, '--workers', 'many'], `--workers must be 'auto' or a positive integer, got "many"`],
    [
      [...sizes, '--workers', '1e400'],
      `--workers must be 'auto' or a positive integer, got "1e400"`,
    ],
    [[...sizes, '--align', '-23'], '--align must be a positive integer, got "-23"'],
    [
      [...sizes, '--align', '1e30'],
      '--align must be a positive integer, at most 9007199254740991, got "1e30"',
    ],
    [[...sizes, '--align', '0'], '--align must be a positive integer, got "0"'],
  ])('rejects %j with exit 2 and one line', async (argv, message) => {
    const { code, stdout, stderr } = await run(argv);
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
    expect(stderr).toBe(`nlsq-memory: ${message} (see --help)\n`);
  });

  it('plans with the overhead learned for --key, from the file NLSQ_MEMORY_CALIBRATION names', async () => {
    const store = join(makeTree({}), 'calibration.json');
    const argv = ['--points', '23e6', '--params', '53', '--total-memory-gb', '1', '--key', 'xpcs'];
    const before = await run(argv, { env: { NLSQ_MEMORY_CALIBRATION: store } });
    expect(before.stdout).toMatch(/\(overhead 6\.5: 0 of 3 runs recorded to learn it\)\.\n/);
    const plan = planNlsqFitSync(23_000_000, 53, { totalMemoryBytes: GIB, env: {} });
    const measurement = {
      peakBytes: 1e8 + plan.residentBytes + 9 * plan.chunkJacobianBytes,
      baselineBytes: 1e8,
      source: 'sampled-rss' as const,
      durationMs: 1,
    };
    for (let run = 0; run < 3; run++)
      await recordFitPeak(plan, measurement, { key: 'xpcs', store });
    const after = await run(argv, { env: { NLSQ_MEMORY_CALIBRATION: store } });
    expect(after.stdout).toMatch(
      /Jacobian × 9\.9 fits .*\(overhead 9\.90 learned from 3 runs\)\.\n/,
    );
    expect((await run(['--key', 'x'])).stderr).toContain('--key needs --points and --params');
  });

  it('speaks of flags and of one worker where the plan is per worker', async () => {
    const { code, stdout } = await run([
      '--points',
      '1e8',
      '--params',
      '10',
      '--total-memory-gb',
      '8',
      '--workers',
      '4',
    ]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Max in memory +[\d,]+ points: .* within the threshold per worker$/m);
    expect(stdout).toMatch(
      /^Plan +Chunks of 500,000 points, the largest allowed \(--max-chunk 500,000\)/m,
    );
    expect(stdout).not.toMatch(/maxChunkPoints/);
  });

  it('says with exit 2 when not even one point fits', async () => {
    const { code, stderr } = await run([
      ...['--points', '10', '--params', '1e9', '--total-memory-gb', '1', '--plan'],
    ]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^nlsq-memory: Not even .* fit/);
    expect(stderr.split('\n')).toHaveLength(2);
  });
});
