import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import { GIB, makeTree, meminfo, memoryStat, mountLine, noGpu, probesWith } from './helpers.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const source = (file: string) => readFileSync(new URL(`../src/${file}`, import.meta.url), 'utf8');

// The machine of the README's sample: a pod limited to 8 GiB on a 64 GiB node, 1.5 GiB in use.
const pod = makeTree({
  'proc/meminfo': meminfo(64 * GIB, 40 * GIB),
  'proc/self/cgroup': '0::/\n',
  'proc/self/mountinfo': `${mountLine(30, '/', '/sys/fs/cgroup', 'cgroup2', 'rw')}\n`,
  'sys/fs/cgroup/memory.max': `${8 * GIB}\n`,
  'sys/fs/cgroup/memory.current': `${1.5 * GIB}\n`,
  'sys/fs/cgroup/memory.stat': memoryStat({ inactive_file: 0 }),
});

/** Runs a command line of the README on the sample pod; its output without the fake root. */
async function runOnPod(command: string): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const code = await main(command.split(' ').slice(2), {
    stdout: (text) => {
      stdout += text;
    },
    stderr: () => {},
    env: {},
    fsRoot: pod,
    probes: probesWith(64 * GIB),
    deviceProbes: noGpu,
    // --watch runs until stopped: here, after a few polls.
    ...(command.includes('--watch') ? { signal: AbortSignal.timeout(300) } : {}),
  });
  return { code, stdout: stdout.replaceAll(pod, '') };
}
const blocks = [...readme.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map(([, lang = '', code = '']) => ({
  lang,
  code,
}));
const scratch = fileURLToPath(new URL('./.tmp/', import.meta.url));

/** Turns `expression; // → value` lines into assertions that the expression equals the value. */
function withAssertions(code: string): { code: string; count: number } {
  let count = 0;
  const asserted = code.replace(
    /^(.+?);\s*\/\/ → (.+)$/gm,
    (_, expression: string, expected: string) => {
      count += 1;
      return `__expectEqual(${expression}, ${expected}, ${JSON.stringify(expression)});`;
    },
  );
  return { code: asserted, count };
}

describe('the README', () => {
  const typescript = blocks.filter((block) => block.lang === 'ts');

  it('has only blocks that a test runs: ts here, js in the package test, sh commands, output', () => {
    expect(
      blocks.map((block) => block.lang).filter((lang) => !['ts', 'js', 'sh', ''].includes(lang)),
    ).toEqual([]);
  });

  it('has TypeScript examples, and annotates results with // →', () => {
    expect(typescript.length).toBeGreaterThanOrEqual(2);
    expect(
      withAssertions(typescript.map((block) => block.code).join('\n')).count,
    ).toBeGreaterThanOrEqual(6);
  });

  it.each(typescript.map((block, index) => [index, block.code]))(
    'example %d runs and its results hold',
    async (index, source) => {
      vi.stubEnv('NLSQ_MEMORY_FRACTION', undefined);
      // Learning the overhead writes a calibration file: a fresh one, never the machine's cache;
      // an example's own temporary files go where the test's do.
      vi.stubEnv('NLSQ_MEMORY_CALIBRATION', `${scratch}calibration-${index}.json`);
      rmSync(`${scratch}calibration-${index}.json`, { force: true });
      vi.stubEnv('TMPDIR', scratch);
      const { code } = withAssertions(source);
      const checks: [unknown, unknown, string][] = [];
      Object.assign(globalThis, {
        __expectEqual: (actual: unknown, expected: unknown, what: string) =>
          checks.push([actual, expected, what]),
      });
      const printed: string[] = [];
      vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
        printed.push(args.join(' '));
      });
      mkdirSync(scratch, { recursive: true });
      const file = `${scratch}readme-${index}.ts`;
      writeFileSync(file, code);
      await import(/* @vite-ignore */ file);
      for (const [actual, expected, what] of checks) expect(actual, what).toEqual(expected);
      expect(printed.join('\n')).not.toMatch(/NaN|undefined/);
      vi.restoreAllMocks();
      vi.unstubAllEnvs();
    },
  );

  it('uses only commands of the command that work', async () => {
    const commands = blocks
      .filter((block) => block.lang === 'sh')
      .flatMap((block) => block.code.split('\n'))
      .map((line) => line.replace(/^DEBUG=\S+ /, ''))
      .filter((line) => line.startsWith('npx nlsq-memory'));
    expect(commands.length).toBeGreaterThanOrEqual(4);
    for (const command of commands) {
      const { code, stdout } = await runOnPod(command);
      expect(code, command).toBe(0);
      expect(stdout, command).not.toMatch(/NaN/);
    }
  });

  it("shows the command's output exactly as it prints it on the machine it describes", async () => {
    const index = blocks.findIndex((block) => block.lang === '' && block.code.startsWith('Host'));
    const command = blocks[index - 1]?.code.trim() ?? '';
    expect(command).toMatch(/^npx nlsq-memory /);
    expect(readme).toContain(
      'In a Kubernetes pod limited to 8 GiB, on a 64 GiB node, with 1.5 GiB in use',
    );
    expect((await runOnPod(command)).stdout).toBe(blocks[index]?.code);
  });

  it('opens with a quick start: install before any npx nlsq-memory, then npm test', () => {
    const sections = [...readme.matchAll(/^## (.+)$/gm)].map(([, title]) => title);
    expect(sections[0]).toBe('Quick start');
    const lines = blocks
      .filter((block) => block.lang === 'sh')
      .flatMap((block) => block.code.split('\n'));
    const firstRun = lines.findIndex((line) => line.includes('npx nlsq-memory'));
    expect(lines.slice(0, firstRun)).toContain('npm install');
    expect(lines[firstRun + 1]).toBe('npm test');
    // Nothing is released: the route that works today comes first, from a packed tarball.
    expect(readme).toContain('is not on the npm registry yet');
    expect(lines).toContain('npm pack');
    expect(lines).toContain('mkdir -p ../your-project && cd ../your-project');
    expect(lines).toContain('clone=$PWD');
    expect(lines).toContain('npm install "$clone"/nlsq-memory-*.tgz');
    expect(lines).not.toContain('npm install nlsq-memory');
  });

  it('shows only npm scripts that exist', () => {
    const { scripts } = JSON.parse(
      readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
    ) as { scripts: Record<string, string> };
    for (const [, script] of readme.matchAll(/npm run ([\w:-]+)/g)) {
      expect(Object.keys(scripts), script).toContain(script);
    }
  });

  it('names every exported type in the API section', () => {
    const api = readme.slice(readme.indexOf('## API'), readme.indexOf('## Environment variable'));
    const types = [...source('index.ts').matchAll(/type (\w+),/g)].map(([, name]) => name);
    expect(types.length).toBeGreaterThanOrEqual(14);
    for (const type of types) expect(api, type).toContain(`\`${type}\``);
  });

  it('says what the docs hold: an example for every function', () => {
    expect(readme).toContain('Every export has TSDoc, and every\nfunction an example');
    const exported = [...source('index.ts').matchAll(/^ {2}(\w+),$/gm)].map(([, name]) => name);
    const files = (
      readdirSync(new URL('../src/', import.meta.url), { recursive: true }) as string[]
    )
      .filter((file) => file.endsWith('.ts'))
      .map(source)
      .join('\n');
    for (const name of exported) {
      const doc = new RegExp(
        `/\\*\\*((?:(?!\\*/)[\\s\\S])*)\\*/\\nexport (?:async )?function ${name}\\(`,
      );
      const match = doc.exec(files);
      if (match !== null) expect(match[1], name).toContain('@example');
    }
  });

  it('states the size budgets that npm test enforces, and no figure that drifts', () => {
    const { 'size-limit': budgets } = JSON.parse(
      readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
    ) as { 'size-limit': { limit: string }[] };
    const stated = [...readme.matchAll(/(\d+(?:\.\d+)?) kB/g)].map(([, figure]) => `${figure} kB`);
    expect(stated.sort()).toEqual(budgets.map((budget) => budget.limit).sort());
  });

  it("shows the benchmark's table as bench/ writes it: its rows, peers and targets", async () => {
    const { HEADER, MARKERS, TARGETS } = await import('../bench/table.mjs');
    const [start, end] = MARKERS.map((marker) => readme.indexOf(marker));
    expect(start).toBeGreaterThan(readme.indexOf('## Performance'));
    const block = readme.slice(start, end);
    expect(block).toMatch(/load average \d+\.\d\d \(1 min\) on \d+ cores/);
    const table = block
      .split('\n')
      .filter((line) => line.startsWith('|'))
      .map((line) =>
        line
          .slice(1, -1)
          .split('|')
          .map((cell) => cell.trim()),
      );
    expect(table[0]).toEqual(HEADER);
    expect(
      table
        .slice(2)
        .map(([name, , peer, , , floor, target]) => [
          name,
          peer,
          floor !== '',
          target?.split(' ')[1],
        ]),
    ).toEqual(
      TARGETS.map(([name, peer, limit, floor]) => [name, peer, floor !== null, String(limit)]),
    );
  });

  it('names every warning code the library can emit', () => {
    const codes = [...source('core/diagnostics.ts').matchAll(/'(NLSQ_[A-Z_]+)'/g)].map(
      ([, code]) => code,
    );
    expect(codes.length).toBe(17);
    for (const code of codes) expect(readme).toMatch(new RegExp(`\\| \`${code}\` +\\|`));
  });
});
