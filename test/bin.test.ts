import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The command as it ships, run in a child process. These tests assert nothing that depends on the
// machine's memory: budgets are given with --total-memory-gb, and only the form of the output,
// the warnings, the exit codes and the debug lines are checked.
const cli = fileURLToPath(new URL('../dist/cli.cjs', import.meta.url));

/** The environment of the tests, without what would change the command's output. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const name of ['NLSQ_MEMORY_FRACTION', 'NODE_OPTIONS', 'NODE_NO_WARNINGS', 'NO_COLOR']) {
    if (!(name in extra)) delete env[name];
  }
  if (!('DEBUG' in extra)) delete env.DEBUG;
  return env;
}

function bin(args: string[], extra: Record<string, string> = {}) {
  const { status, stdout, stderr } = spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: cleanEnv(extra),
    timeout: 15_000,
  });
  return { status, stdout, stderr };
}

describe('the nlsq-memory command', () => {
  it('prints a warning as one line, not in the two lines of Node.js', () => {
    const { status, stdout, stderr } = bin(['--fraction', '0.05', '--total-memory-gb', '8']);
    expect(status).toBe(0);
    expect(stdout).toContain(
      'Threshold      0.80 GB (10% of 8.00 GB given, fraction from argument)',
    );
    expect(stderr).toBe(
      'nlsq-memory: warning: Memory fraction 0.05 from --fraction clamped to [0.1, 0.9]: using 0.1\n',
    );
  });

  it('prints no warning with NODE_NO_WARNINGS=1, as Node.js', () => {
    const { status, stderr } = bin(['--fraction', '0.05', '--total-memory-gb', '8'], {
      NODE_NO_WARNINGS: '1',
    });
    expect(status).toBe(0);
    expect(stderr).toBe('');
  });

  it('ends quietly with 0 when the reader of its output went away (`| true`)', async () => {
    const child = spawn(
      process.execPath,
      [cli, '--json', '--points', '5', '--params', '5', '--total-memory-gb', '8'],
      { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    // Close the reading end before the command writes: its write fails with EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(status).toBe(0);
  });

  it.each([
    [['--fraction', '2', '--json', '--total-memory-gb', '8'], {}, 0],
    [['--points', 'x'], {}, 2],
    [['--json', '--total-memory-gb', '8'], { DEBUG: 'nlsq-memory:*' }, 0],
  ])(
    'keeps its exit code for %j when the reader of its stderr went away',
    async (args, extra, code) => {
      const child = spawn(process.execPath, [cli, ...args], {
        env: cleanEnv(extra),
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child.stderr.destroy();
      const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(status).toBe(code);
    },
  );

  it('takes numbers as users write them, and a negative one as a value', () => {
    const budget = ['--params', '10', '--total-memory-gb', '8', '--json'];
    const decisions = ['1e6', '1_000_000', '1000000'].map(
      (points) => JSON.parse(bin(['--points', points, ...budget]).stdout).decision,
    );
    expect(decisions[1]).toEqual(decisions[0]);
    expect(decisions[2]).toEqual(decisions[0]);
    expect(bin(['--points', '-5', '--params', '2'])).toEqual({
      status: 2,
      stdout: '',
      stderr: 'nlsq-memory: --points must be a non-negative integer, got "-5" (see --help)\n',
    });
    const spaced = bin(['--fraction', '-1', '--total-memory-gb', '8', '--json']);
    const joined = bin(['--fraction=-1', '--total-memory-gb', '8', '--json']);
    expect(spaced.status).toBe(0);
    expect(JSON.parse(spaced.stdout).threshold).toEqual(JSON.parse(joined.stdout).threshold);
    expect(spaced.stderr).toBe(joined.stderr);
  });

  it("names options by their flags in warnings, and prints a failed call's warnings before its error", () => {
    const { status, stderr } = bin(
      ['--points', '1e6', '--params', '10', '--min-chunk', '1e3', '--max-chunk', '10'],
      { SLURM_MEM_PER_NODE: 'abc' },
    );
    expect(status).toBe(2);
    expect(stderr.split('\n')).toEqual([
      expect.stringMatching(
        /^nlsq-memory: warning: A memory limit could not be read \(SLURM_MEM_PER_NODE is "abc"\): .* Give --total-memory-gb if /,
      ),
      'nlsq-memory: --max-chunk must be at least --min-chunk (1000), got 10 (see --help)',
      '',
    ]);
  });

  it('detects once per run: each detection line once, one threshold line', () => {
    const { status, stderr } = bin(['--points', '1e6', '--params', '10'], {
      DEBUG: 'nlsq-memory:*',
      DEBUG_COLORS: 'no',
    });
    expect(status).toBe(0);
    const count = (pattern: RegExp) =>
      stderr.split('\n').filter((line) => pattern.test(line)).length;
    expect(count(/nlsq-memory:detect host \d+ bytes from/)).toBe(1);
    expect(count(/nlsq-memory:detect limit /)).toBeLessThanOrEqual(1);
    expect(count(/nlsq-memory:threshold threshold /)).toBe(1);
    expect(count(/nlsq-memory:strategy selected /)).toBe(1);
  });

  it('says in one line, before anything runs, which Node.js it needs', () => {
    const { status, stdout, stderr } = spawnSync(
      process.execPath,
      [
        '-e',
        `delete process.getBuiltinModule; process.argv.splice(1, 0, 'nlsq-memory', '--json'); require(${JSON.stringify(cli)})`,
      ],
      { encoding: 'utf8', env: cleanEnv() },
    );
    expect({ status, stdout }).toEqual({ status: 1, stdout: '' });
    expect(stderr).toMatch(
      /^nlsq-memory: needs Node\.js 20\.16 or later in 20, 22\.3 or later after it; this is v\d+\.\d+\.\d+\n$/,
    );
  });

  it.skipIf(process.platform === 'win32')('is executable as the build leaves it', () => {
    expect(statSync(cli).mode & 0o111).toBe(0o111);
    expect(execFileSync(cli, ['--version'], { encoding: 'utf8' })).toMatch(
      /^\d+\.\d+\.\d+(-[\w.]+)?\n$/,
    );
  });
});
