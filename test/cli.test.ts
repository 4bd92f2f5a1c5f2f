import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { type CliIo, main, supportsColor } from '../src/cli.js';
import { GIB, probesWith } from './helpers.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(argv: string[], extra: Partial<CliIo> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: {},
    ...extra,
  });
  return { code, stdout, stderr };
}

describe('nlsq-memory', () => {
  it('prints the decision and its reason for a budget', async () => {
    const { code, stdout, stderr } = await run([
      '--points',
      '100000000',
      '--params',
      '53',
      '--total-memory-gb',
      '32',
    ]);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toContain(
      'Threshold      24.00 GB (75% of 32.00 GB given, fraction from default)',
    );
    expect(stdout).toContain('Strategy       out_of_core\n');
    expect(stdout).toContain(
      'Reason         Peak memory (256.67 GB) exceeds threshold (24.00 GB)\n',
    );
    expect(stdout).toContain('Max in memory  9,350,436 points');
  });

  it('prints what it detected: host RAM, the limit and where it came from', async () => {
    const { stdout } = await run([], {
      env: { SLURM_MEM_PER_NODE: '1024' },
      probes: probesWith(64 * GIB),
    });
    expect(stdout).toContain('Host memory    64.00 GB (systeminformation)\n');
    expect(stdout).toContain('Limit          1.00 GB (slurm: SLURM_MEM_PER_NODE)\n');
    expect(stdout).toContain('Usable         1.00 GB\n');
    expect(stdout).toMatch(/Available now {2}\d+\.\d\d GB\n/);
    expect(stdout).toContain(
      'Threshold      0.75 GB (75% of 1.00 GB total, fraction from default)\n',
    );
    expect(stdout).not.toContain('Strategy');
  });

  it('uses --fraction, --basis and NLSQ_MEMORY_FRACTION', async () => {
    const probes = probesWith(64 * GIB);
    expect((await run(['--fraction', '0.5'], { probes })).stdout).toContain(
      '32.00 GB (50% of 64.00 GB total, fraction from argument)',
    );
    const fromEnv = await run(['--basis', 'available'], {
      probes,
      env: { NLSQ_MEMORY_FRACTION: '0.25' },
    });
    expect(fromEnv.stdout).toMatch(
      /Threshold +\d+\.\d\d GB \(25% of \d+\.\d\d GB available, fraction from env\)/,
    );
  });

  it('says when detection failed and the fallback is used', async () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const { code, stdout } = await run([], { probes: probesWith(0, 0) });
    expect(code).toBe(0);
    expect(stdout).toContain('Host memory    unknown (detection failed)\n');
    expect(stdout).toContain(
      'Threshold      16.00 GB (fallback: memory unknown, fraction from default)\n',
    );
  });

  it('prints one JSON object with --json', async () => {
    const { code, stdout } = await run(
      ['--json', '--points', '23000000', '--params', '9', '--total-memory-gb', '64'],
      {
        probes: probesWith(64 * GIB),
      },
    );
    expect(code).toBe(0);
    const parsed = JSON.parse(stdout);
    expect(Object.keys(parsed)).toEqual(['memory', 'threshold', 'decision']);
    expect(parsed.memory).toMatchObject({
      hostTotalBytes: 64 * GIB,
      detectionMethod: 'systeminformation',
    });
    expect(parsed.threshold).toMatchObject({
      thresholdGb: 48,
      info: { detectionMethod: 'override', source: 'default' },
    });
    expect(parsed.decision).toMatchObject({
      strategy: 'standard',
      reason: 'Memory fits: 10.02 GB < 48.00 GB threshold',
    });
    expect(Object.keys(JSON.parse((await run(['--json'])).stdout))).toEqual([
      'memory',
      'threshold',
    ]);
  });

  it('colours the labels and the strategy only when asked', async () => {
    const argv = ['--points', '10', '--params', '2', '--total-memory-gb', '8'];
    const plain = await run(argv);
    const coloured = await run(argv, { color: true });
    expect(plain.stdout).not.toContain('\x1b[');
    expect(coloured.stdout).toContain('\x1b[32mstandard\x1b[0m');
    expect(stripVTControlCharacters(coloured.stdout)).toBe(plain.stdout);
    expect((await run(['--json', ...argv], { color: true })).stdout).not.toContain('\x1b[');
  });

  it('colours on a terminal only, never with NO_COLOR or TERM=dumb', () => {
    expect(supportsColor(true, {})).toBe(true);
    expect(supportsColor(false, {})).toBe(false);
    expect(supportsColor(undefined, {})).toBe(false);
    expect(supportsColor(true, { NO_COLOR: '1' })).toBe(false);
    expect(supportsColor(true, { NO_COLOR: '' })).toBe(true);
    expect(supportsColor(true, { TERM: 'dumb' })).toBe(false);
  });

  it('prints help and the version', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: nlsq-memory/);
    expect(help.stdout).toContain('Exit codes: 0 success, 1 unexpected failure, 2 bad flags.');
    expect((await run(['-h'])).stdout).toBe(help.stdout);
    expect((await run(['--version'])).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('exits 1 with one line on stderr when something unexpected fails', async () => {
    let stderr = '';
    const code = await main(['--total-memory-gb', '8'], {
      stdout: () => {
        throw new Error('write EPIPE');
      },
      stderr: (text) => {
        stderr += text;
      },
      env: {},
    });
    expect(code).toBe(1);
    expect(stderr).toBe('nlsq-memory: write EPIPE\n');
  });

  it.each([
    [['--points', '10'], '--points and --params go together'],
    [['--params', '10'], '--points and --params go together'],
    [['--points=-1', '--params', '2'], '--points must be a non-negative integer, got "-1"'],
    [['--points', '1e8', '--params', '2'], '--points must be a non-negative integer, got "1e8"'],
    [
      ['--points', '10', '--params', '99999999999999999999'],
      '--params must be a non-negative integer',
    ],
    [['--fraction', 'abc'], '--fraction must be a number, got "abc"'],
    [['--basis', 'free'], `--basis must be 'total' or 'available', got "free"`],
    [['--total-memory-gb', '0'], '--total-memory-gb must be a number above 0, got "0"'],
    [['--bogus'], "Unknown option '--bogus'"],
    [['stray'], 'stray'],
    [['--points'], "Option '--points <value>' argument missing"],
  ])('exits 2 with one line on stderr for %j', async (argv, message) => {
    const { code, stdout, stderr } = await run(argv);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(message);
    expect(stderr).toMatch(/^nlsq-memory: [^\n]+ \(see --help\)\n$/);
  });
});
