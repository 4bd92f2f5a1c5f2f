import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { format, stripVTControlCharacters } from 'node:util';
import createDebug from 'debug';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FLAGS } from '../src/cli/flags.js';
import { printWarningsAsLines, supportsColor } from '../src/cli/main.js';
import { run } from './cliRun.js';
import { GIB, makeTree, meminfo, memoryStat, mountLine, probesWith } from './helpers.js';

// A pod limited to 4 GiB by cgroup v2, on a 64 GiB host.
const pod = makeTree({
  'proc/meminfo': meminfo(64 * GIB, 40 * GIB),
  'proc/self/cgroup': '0::/\n',
  'proc/self/mountinfo': `${mountLine(30, '/', '/sys/fs/cgroup', 'cgroup2', 'rw')}\n`,
  'sys/fs/cgroup/memory.max': `${4 * GIB}\n`,
  'sys/fs/cgroup/memory.current': `${GIB}\n`,
  'sys/fs/cgroup/memory.stat': memoryStat({ inactive_file: 0 }),
});

afterEach(() => {
  vi.restoreAllMocks();
});

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
    expect(stdout).toContain('Available now  1.00 GB\n');
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
    expect(fromEnv.stdout).toContain(
      'Threshold      3.00 GB (25% of 12.00 GB available, fraction from env)\n',
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
    expect(Object.keys(parsed)).toEqual(['memory', 'devices', 'threshold', 'decision']);
    expect(parsed.devices).toEqual([]);
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
      'devices',
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
    expect(help.stdout).toContain(
      'Exit codes: 0 success (and --watch stopped by Ctrl-C), 1 unexpected failure, 2 bad flags,\n130 or 143',
    );
    expect((await run(['-h'])).stdout).toBe(help.stdout);
    // The usage lines name every flag.
    const usage = help.stdout.slice(0, help.stdout.indexOf('\n\n'));
    for (const flag of Object.keys(FLAGS)) expect(usage).toContain(`--${flag}`);
    expect((await run(['--version'])).stdout).toMatch(/^\d+\.\d+\.\d+(-[\w.]+)?\n$/);
    // --version wins over everything, bad flags included; then --help.
    const { version } = JSON.parse(
      readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
    );
    expect(await run(['--version', '--points', '-1'])).toEqual({
      code: 0,
      stdout: `${version}\n`,
      stderr: '',
    });
    expect((await run(['--points', 'x', '-v'])).stdout).toBe(`${version}\n`);
    expect((await run(['--bogus', '--help'])).stdout).toMatch(/^Usage: nlsq-memory/);
    expect((await run(['--help', '--version'])).stdout).toBe(`${version}\n`);
    expect((await run(['-h', '-v'])).stdout).toBe(`${version}\n`);
  });

  it('exits 1 with one line on stderr when something unexpected fails', async () => {
    const { code, stderr } = await run(['--total-memory-gb', '8'], {
      stdout: () => {
        throw new Error('write EIO');
      },
    });
    expect(code).toBe(1);
    expect(stderr).toBe('nlsq-memory: write EIO\n');
  });

  it('ends quietly with 0 when the reader of its output went away', async () => {
    const { code, stderr } = await run(['--total-memory-gb', '8'], {
      stdout: () => {
        throw Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
      },
    });
    expect(code).toBe(0);
    expect(stderr).toBe('');
  });

  it('reads /proc and /sys below fsRoot: the limit of a pod', async () => {
    const { stdout } = await run([], { fsRoot: pod, probes: probesWith(64 * GIB) });
    expect(stdout).toContain('Host memory    64.00 GB (systeminformation)\n');
    expect(stdout).toContain(
      `Limit          4.00 GB (cgroup-v2: ${pod}/sys/fs/cgroup/memory.max)\n`,
    );
    expect(stdout).toContain('Available now  3.00 GB\n');
    expect(stdout).toContain(
      'Threshold      3.00 GB (75% of 4.00 GB total, fraction from default)\n',
    );
  });

  it('takes numbers as users write them', async () => {
    const budget = ['--params', '10', '--total-memory-gb', '8', '--json'];
    const decisions: { peakMemoryGb: number }[] = [];
    for (const points of ['1000000', '1e6', '1E6', '1_000_000', '1.0e6', '+1e6', '0.001e9']) {
      const { code, stdout } = await run(['--points', points, ...budget]);
      expect(code, points).toBe(0);
      decisions.push(JSON.parse(stdout).decision);
    }
    const peaks = new Set(decisions.map((decision) => decision.peakMemoryGb));
    expect([...peaks]).toEqual([(1e6 * 10 * 8 * 6.5) / GIB]);
    const fraction = (await run(['--fraction', '5e-1', '--json'])).stdout;
    expect(JSON.parse(fraction).threshold.info.memoryFraction).toBe(0.5);
    const budgetGb = (await run(['--total-memory-gb', '1_024', '--json'])).stdout;
    expect(JSON.parse(budgetGb).threshold.info.totalMemoryGb).toBe(1024);
  });

  it('reads --fraction -1 as --fraction=-1: a value, clamped with a warning', async () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const spaced = await run(['--fraction', '-1', '--total-memory-gb', '8']);
    const joined = await run(['--fraction=-1', '--total-memory-gb', '8']);
    expect(spaced).toEqual(joined);
    expect(spaced.code).toBe(0);
    expect(spaced.stdout).toContain(
      'Threshold      0.80 GB (10% of 8.00 GB given, fraction from argument)\n',
    );
  });

  it('prints the threshold and the reason with the same rounding', async () => {
    const { stdout } = await run(['--total-memory-gb', '1.5', '--points', '1', '--params', '1']);
    expect(stdout).toContain(
      'Threshold      1.12 GB (75% of 1.50 GB given, fraction from default)\n',
    );
    expect(stdout).toContain('Reason         Memory fits: 0.00 GB < 1.12 GB threshold\n');
  });

  it("says basis 'total' for a given budget, whatever --basis asked", async () => {
    const { stdout } = await run(['--json', '--total-memory-gb', '8', '--basis', 'available']);
    expect(JSON.parse(stdout).threshold.info).toMatchObject({ basis: 'total', totalMemoryGb: 8 });
  });

  it('detects once per run, for the memory, the threshold and the decision', async () => {
    const lines: string[] = [];
    const originalLog = createDebug.log;
    createDebug.log = (...args: unknown[]) => {
      lines.push(format(...args));
    };
    createDebug.enable('nlsq-memory:*');
    const probes = probesWith(16 * GIB);
    try {
      await run(['--points', '1e6', '--params', '10'], {
        env: { SLURM_MEM_PER_NODE: '2048' },
        probes,
      });
    } finally {
      createDebug.log = originalLog;
      createDebug.disable();
    }
    const count = (pattern: RegExp) => lines.filter((line) => pattern.test(line)).length;
    expect(probes.calls.mem).toBe(1);
    expect(count(/nlsq-memory:detect limit 2147483648 bytes from slurm/)).toBe(1);
    expect(count(/nlsq-memory:detect host /)).toBe(1);
    // The answers computed from the one snapshot share one threshold: it is logged once.
    expect(count(/nlsq-memory:threshold threshold 1\.50 GB/)).toBe(1);
    expect(count(/nlsq-memory:strategy selected standard for 1000000 points x 10 params/)).toBe(1);
  });

  it.each([
    [['--points', '10'], '--points and --params go together'],
    [['--params', '10'], '--points and --params go together'],
    [['--points=-1', '--params', '2'], '--points must be a non-negative integer, got "-1"'],
    [['--points', '-5', '--params', '2'], '--points must be a non-negative integer, got "-5"'],
    [['--points', '1.5', '--params', '2'], '--points must be a non-negative integer, got "1.5"'],
    [['--points', '1e', '--params', '2'], '--points must be a non-negative integer, got "1e"'],
    [['--points', '1__0', '--params', '2'], '--points must be a non-negative integer, got "1__0"'],
    [['--points', '0x10', '--params', '2'], '--points must be a non-negative integer, got "0x10"'],
    [
      ['--points', '1e30', '--params', '2'],
      '--points must be a non-negative integer, at most 9007199254740991, got "1e30"',
    ],
    [['--params', '-2', '--points', '2'], '--params must be a non-negative integer, got "-2"'],
    [
      ['--points', '10', '--params', '99999999999999999999'],
      '--params must be a non-negative integer',
    ],
    [['--fraction', 'abc'], '--fraction must be a number, got "abc"'],
    [['--basis', 'free'], `--basis must be 'total' or 'available', got "free"`],
    [['--total-memory-gb', '0'], '--total-memory-gb must be a number above 0, got "0"'],
    [['--total-memory-gb', '-8'], '--total-memory-gb must be a number above 0, got "-8"'],
    [['--total-memory-gb', '1e-12'], '--total-memory-gb must be at least one byte'],
    [['--total-memory-gb', '1e300'], '--total-memory-gb must be below 8388608, got "1e300"'],
    [['--fraction', '-abc'], '--fraction must be a number, got "-abc"'],
    [['--bogus'], "Unknown option '--bogus'"],
    [['-x'], "Unknown option '-x'"],
    [['--json=yes'], "Option '--json' does not take an argument"],
    [['--', 'stray'], "Unexpected argument 'stray'"],
    [['--points=5', '--params=2', '--', '--json'], "Unexpected argument '--json'"],
    [['stray'], 'stray'],
    [['--points'], '--points needs a number'],
    [['--points', '--params', '53'], '--points needs a number'],
    [
      ['--points', '1e6', '--points', '2e6', '--params', '5'],
      '--points is given twice: give it once',
    ],
    [['--fraction', '0.5', '--fraction=0.6'], '--fraction is given twice'],
    [['--json', '--json'], '--json is given twice'],
    [
      ['--watch', '--interval', '3000000000'],
      '--interval must be an integer of at least 50, at most 2147483647, got "3000000000"',
    ],
    [
      ['--points', '1e8', '--params', '10', '--align', '1e7'],
      '--align (10,000,000) is above the largest chunk, 500,000 by default for out_of_core: give a smaller --align, or a --max-chunk of at least 10,000,000 (see --help)',
    ],
    [
      ['--points', '1e6', '--params', '10', '--max-chunk', '0'],
      '--max-chunk must be a positive integer, got "0"',
    ],
    [
      ['--points', '1e6', '--params', '10', '--min-chunk', '1e3', '--max-chunk', '10'],
      '--max-chunk must be at least --min-chunk (1000), got 10',
    ],
    [
      ['--points', '1e6', '--params', '53', '--total-memory-gb', '16', '--workers', '1e9'],
      'per worker (12 bytes): give fewer workers, or more memory (--total-memory-gb, --fraction)',
    ],
    [
      ['--points', '10', '--params', '1e9', '--total-memory-gb', '1', '--plan'],
      ': give more memory (--total-memory-gb, --fraction)',
    ],
    [
      ['--points', '10', '--params', '1e9', '--total-memory-gb', '1', '--workers', '1'],
      'the budget (768.00 MB) less what stays resident (80 bytes): give more memory (',
    ],
    [
      ['--points', '10', '--params', '1e10', '--total-memory-gb', '1e6', '--plan'],
      'this Node.js allows (4,294,967,296 elements) (see --help)',
    ],
    [['--point', '5'], "Unknown option '--point': did you mean --points? (see --help)"],
    [['--totl-memory-gb=5'], "Unknown option '--totl-memory-gb': did you mean --total-memory-gb?"],
  ])('exits 2 with one line on stderr, and nothing on stdout, for %j', async (argv, message) => {
    const { code, stdout, stderr } = await run(argv);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(message);
    expect(stderr).toMatch(/^nlsq-memory: [^\n]+\n$/);
  });
});

describe('printWarningsAsLines', () => {
  it("prints this library's warnings as one line, and passes others to Node's printer", () => {
    const emitter = new EventEmitter();
    const node: string[] = [];
    emitter.on('warning', (warning: Error) => node.push(warning.name));
    const lines: string[] = [];
    printWarningsAsLines(emitter, (line) => lines.push(line));
    const ours = Object.assign(new Error('Memory fraction 2 clamped'), {
      name: 'NlsqMemoryWarning',
    });
    const theirs = Object.assign(new Error('old API'), { name: 'DeprecationWarning' });
    emitter.emit('warning', ours);
    emitter.emit('warning', theirs);
    expect(lines).toEqual(['nlsq-memory: warning: Memory fraction 2 clamped\n']);
    expect(node).toEqual(['DeprecationWarning']);
  });

  it('prints nothing where Node prints no warnings (--no-warnings)', () => {
    const emitter = new EventEmitter();
    const lines: string[] = [];
    printWarningsAsLines(emitter, (line) => lines.push(line));
    emitter.emit('warning', Object.assign(new Error('x'), { name: 'NlsqMemoryWarning' }));
    expect(lines).toEqual([]);
    expect(emitter.listenerCount('warning')).toBe(0);
  });
});
