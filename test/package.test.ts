import { execFileSync, execSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'nlsq-memory-package-'));
const node = (file: string) =>
  execFileSync(process.execPath, [file], { cwd: scratch, encoding: 'utf8' });

const usage = `{ totalMemoryBytes: 32 * 1024 ** 3 }`;
const expected = {
  strategy: 'out_of_core',
  reason: 'Peak memory (256.67 GB) exceeds threshold (24.00 GB)',
};

/** The folders in this project's node_modules of `names` and of everything they depend on. */
function dependencyFolders(names: string[]): string[] {
  const require = createRequire(join(repo, 'package.json'));
  const folders = new Map<string, string>();
  const visit = (name: string, from: string) => {
    const manifest = createRequire(from).resolve(`${name}/package.json`);
    const folder = dirname(manifest);
    if (folders.has(folder)) return;
    folders.set(folder, name);
    const { dependencies = {} } = JSON.parse(readFileSync(manifest, 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const dependency of Object.keys(dependencies)) visit(dependency, manifest);
  };
  for (const name of names) visit(name, require.resolve('./package.json'));
  return [...folders.keys()];
}

/** What `npm install` of the packed tarball printed on stderr. */
let installLog = '';

beforeAll(() => {
  // Packed as npm packs it, lifecycle scripts and all, from a copy of what ships: packing must
  // neither rebuild dist/ under the other tests nor touch this repository's package.json.
  const copy = join(scratch, 'package-source');
  for (const path of ['package.json', 'README.md', 'LICENSE', 'dist']) {
    cpSync(join(repo, path), join(copy, path), { recursive: true });
  }
  for (const script of ['manifest.mjs', 'prepare.mjs']) {
    cpSync(join(repo, 'scripts', script), join(copy, 'scripts', script));
  }
  execSync(`npm pack --silent --pack-destination "${scratch}"`, { cwd: copy, stdio: 'ignore' });
  // The dependencies come from this project's node_modules, packed as they were installed: the
  // install below needs no registry and no network.
  const { dependencies = {} } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  for (const folder of dependencyFolders(Object.keys(dependencies))) {
    execSync(`npm pack --ignore-scripts --silent --pack-destination "${scratch}" "${folder}"`, {
      cwd: scratch,
      stdio: 'ignore',
    });
  }
  const tarballs = readdirSync(scratch).filter((file) => file.endsWith('.tgz'));
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', private: true }));
  const install = spawnSync(
    'npm',
    ['install', '--offline', '--no-audit', '--no-fund', ...tarballs.map((file) => `./${file}`)],
    { cwd: scratch, encoding: 'utf8', shell: process.platform === 'win32' },
  );
  installLog = install.stderr;
  expect(install.status, installLog).toBe(0);
}, 120_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the packed package', () => {
  it('installs offline with no npm warning: it runs no install script', () => {
    expect(installLog).not.toMatch(/npm warn/i);
    const manifest = JSON.parse(
      readFileSync(join(scratch, 'node_modules/nlsq-memory/package.json'), 'utf8'),
    ) as { scripts?: Record<string, string> };
    for (const script of ['preinstall', 'install', 'postinstall', 'prepare']) {
      expect(manifest.scripts?.[script], script).toBeUndefined();
    }
    // The clone's own manifest keeps `prepare`: `npm install` there builds dist/.
    expect(JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')).scripts.prepare).toBe(
      'node scripts/prepare.mjs',
    );
  });

  it('puts the whole manifest back after packing, even after a pack that failed half-way', () => {
    const folder = mkdtempSync(join(scratch, 'manifest-'));
    const original = `${JSON.stringify({ name: 'x', scripts: { prepare: 'build', test: 't' } }, null, 2)}\n`;
    writeFileSync(join(folder, 'package.json'), original);
    const step = (name: string) =>
      execFileSync(process.execPath, [join(repo, 'scripts/manifest.mjs'), name], { cwd: folder });
    step('strip');
    expect(JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')).scripts).toEqual({
      test: 't',
    });
    step('strip'); // packed again, without the postpack of the first
    step('restore');
    expect(readFileSync(join(folder, 'package.json'), 'utf8')).toBe(original);
    expect(readdirSync(folder)).toEqual(['package.json']);
    // A failed pack, then the manifest put back by hand and edited: the edit is what is kept.
    step('strip');
    const edited = original.replace('"t"', '"t2"');
    writeFileSync(join(folder, 'package.json'), edited);
    step('strip');
    step('restore');
    expect(readFileSync(join(folder, 'package.json'), 'utf8')).toBe(edited);
  });

  it('has a lockfile of this manifest: a fresh clone installs without changing it', () => {
    const read = (file: string) => JSON.parse(readFileSync(join(repo, file), 'utf8'));
    const manifest = read('package.json') as Record<string, unknown>;
    const lock = read('package-lock.json') as {
      version: string;
      packages: Record<string, Record<string, unknown>>;
    };
    const root = lock.packages[''] ?? {};
    expect(lock.version).toBe(manifest.version);
    for (const field of ['version', 'bin', 'engines', 'dependencies', 'devDependencies']) {
      expect(root[field], field).toEqual(manifest[field]);
    }
  });

  it('ships dist only, without tests or sources', () => {
    const listing = execSync('npm pack --dry-run --json --ignore-scripts', {
      cwd: repo,
      encoding: 'utf8',
    });
    const files = (JSON.parse(listing) as [{ files: { path: string }[] }])[0].files.map(
      (file) => file.path,
    );
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('dist/cli.cjs');
    expect(
      files.filter((file) => !/^(dist\/|package\.json$|README\.md$|LICENSE$)/.test(file)),
    ).toEqual([]);
  });

  it('ships a small entry, the library, the command and the files loaded on first use as one bundled file each, beside per-module declarations', () => {
    const listing = execSync('npm pack --dry-run --json --ignore-scripts', {
      cwd: repo,
      encoding: 'utf8',
    });
    const files = (JSON.parse(listing) as [{ files: { path: string }[] }])[0].files.map(
      (file) => file.path,
    );
    expect(files.filter((file) => /\.[cm]?js$/.test(file)).sort()).toEqual([
      'dist/bundle.js',
      'dist/changes.cjs',
      'dist/cli.cjs',
      'dist/core.cjs',
      'dist/deviceDetect.cjs',
      'dist/index.js',
      'dist/recording.cjs',
    ]);
    const code = (file: string) => readFileSync(join(repo, file), 'utf8');
    // The entry imports nothing: the library is loaded by the first call.
    expect(code('dist/index.js')).not.toMatch(/\bimport\s*[({"'`]|\bfrom\s*["'`]/);
    expect(code('dist/index.js')).toContain(`createRequire(import.meta.url)('./core.cjs')`);
    for (const file of files.filter((name) => name.endsWith('.cjs'))) {
      expect(code(file), file).not.toMatch(/\bimport\(/);
      const required = [...code(file).matchAll(/\brequire\(\s*["'`]([^"'`]+)["'`]\s*\)/g)].map(
        ([, specifier = '']) => specifier,
      );
      expect(
        required.filter(
          (specifier) =>
            !/^(node:[\w/]+|url|systeminformation(\/lib\/\w+\.js)?|\.\/(deviceDetect|changes|recording)\.cjs)$/.test(
              specifier,
            ),
        ),
        file,
      ).toEqual([]);
    }
    // What bundlers take imports nothing but systeminformation, which they can follow.
    const imported = [...code('dist/bundle.js').matchAll(/\bimport\s*\(?\s*["'`]([^"'`]+)["'`]/g)];
    expect(imported.map(([, specifier]) => specifier).sort()).toEqual([
      'systeminformation',
      'systeminformation/lib/graphics.js',
      'systeminformation/lib/memory.js',
    ]);
    expect(files).toContain('dist/detect/memoryDetect.d.ts');
  });

  it('ships no source map that points at a file it does not ship', () => {
    const tarball = readdirSync(scratch).find((file) => file.startsWith('nlsq-memory-'));
    const listing = execSync(`tar -tzf "${join(scratch, tarball ?? '')}"`, { encoding: 'utf8' });
    const files = new Set(listing.split('\n').filter(Boolean));
    const maps = [...files].filter((file) => file.endsWith('.map'));
    const missing = maps.flatMap((map) => {
      const text = execSync(`tar -xzOf "${join(scratch, tarball ?? '')}" "${map}"`, {
        encoding: 'utf8',
      });
      const { sources = [] } = JSON.parse(text) as { sources?: string[] };
      return sources
        .map((source) => posix.normalize(posix.join(posix.dirname(map), source)))
        .filter((source) => !files.has(source));
    });
    expect(missing).toEqual([]);
    expect(maps).toEqual([]);
  });

  it('installs its dependencies from this project, without the network', () => {
    const installed = readdirSync(join(scratch, 'node_modules')).sort();
    expect(installed).toEqual(expect.arrayContaining(['debug', 'ms', 'systeminformation']));
  });

  it('works from ESM', () => {
    writeFileSync(
      join(scratch, 'esm.mjs'),
      `import { selectNlsqStrategy } from 'nlsq-memory';
const { strategy, reason } = await selectNlsqStrategy(100_000_000, 53, ${usage});
console.log(JSON.stringify({ strategy, reason }));`,
    );
    expect(JSON.parse(node('esm.mjs'))).toEqual(expected);
  });

  it('works from CommonJS', () => {
    writeFileSync(
      join(scratch, 'cjs.cjs'),
      `const { selectNlsqStrategySync } = require('nlsq-memory');
const { strategy, reason } = selectNlsqStrategySync(100_000_000, 53, ${usage});
console.log(JSON.stringify({ strategy, reason }));`,
    );
    expect(JSON.parse(node('cjs.cjs'))).toEqual(expected);
  });

  it('runs the CommonJS example of the README', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const examples = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map(([, code = '']) => code);
    expect(examples).toHaveLength(1);
    examples.forEach((code, index) => {
      writeFileSync(join(scratch, `readme-${index}.cjs`), code);
      expect(node(`readme-${index}.cjs`)).toBe('out_of_core\n');
    });
  });

  it('type-checks under strict TypeScript, with types that are not any', () => {
    writeFileSync(
      join(scratch, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          types: [],
          noEmit: true,
          exactOptionalPropertyTypes: true,
        },
        files: ['check.mts'],
      }),
    );
    writeFileSync(
      join(scratch, 'check.mts'),
      `import { decideNlsqStrategy, getAdaptiveMemoryThreshold, NLSQStrategy, selectNlsqStrategy, type MemoryReport, type NLSQStrategy as Strategy } from 'nlsq-memory';
const decision = await selectNlsqStrategy(1000, 5, ${usage});
const strategy: 'standard' | 'out_of_core' | 'hybrid_streaming' = decision.strategy;
const named: Strategy = NLSQStrategy.OUT_OF_CORE;
const points: number = decision.maxInMemoryPoints;
const { thresholdBytes, info } = await getAdaptiveMemoryThreshold(0.5);
const source: 'argument' | 'env' | 'default' = info.source;
const report: MemoryReport | null = null;
// @ts-expect-error strategies are a closed union
const unknown: 'streaming' = decision.strategy;
// @ts-expect-error decisions are read-only
decision.strategy = 'standard';
// @ts-expect-error counts are numbers
const text: string = decision.maxInMemoryPoints;
// @ts-expect-error sizes are numbers
decideNlsqStrategy('1000', 5, 16);
// @ts-expect-error the fraction is a number or options
await getAdaptiveMemoryThreshold('0.5');
// @ts-expect-error the basis is 'total' or 'available'
await getAdaptiveMemoryThreshold({ basis: 'free' });
// @ts-expect-error the constants are read-only
NLSQStrategy.STANDARD = 'x';
export { strategy, named, points, thresholdBytes, source, report, unknown, text };
`,
    );
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    expect(() =>
      execFileSync(process.execPath, [tsc, '-p', scratch], { encoding: 'utf8' }),
    ).not.toThrow();
  });

  it("type-checks the README's TypeScript examples against the installed package", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const examples = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map(([, code = '']) => code);
    expect(examples.length).toBeGreaterThanOrEqual(2);
    const files = examples.map((code, index) => {
      // Each example is a module of its own, as a reader pastes it.
      writeFileSync(join(scratch, `readme-${index}.mts`), `${code}\nexport {};\n`);
      return `readme-${index}.mts`;
    });
    const config = join(scratch, 'tsconfig.readme.json');
    writeFileSync(
      config,
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          types: ['node'],
          typeRoots: [join(repo, 'node_modules/@types')],
          noEmit: true,
          exactOptionalPropertyTypes: true,
        },
        files,
      }),
    );
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const result = spawnSync(process.execPath, [tsc, '-p', config], { encoding: 'utf8' });
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });

  it("bundles through the package's module condition into a file that runs anywhere, without node_modules", async () => {
    writeFileSync(
      join(scratch, 'bundled.mjs'),
      `import { detectMemory, getAdaptiveMemoryThresholdSync, planNlsqFitSync } from 'nlsq-memory';
const report = await detectMemory();
const { thresholdGb } = getAdaptiveMemoryThresholdSync(${usage});
const { decision } = planNlsqFitSync(100_000_000, 53, ${usage});
console.log(JSON.stringify({ method: report.detectionMethod, thresholdGb, strategy: decision.strategy }));`,
    );
    const { build } = await import('rolldown');
    const away = mkdtempSync(join(tmpdir(), 'nlsq-memory-bundled-'));
    await build({
      input: join(scratch, 'bundled.mjs'),
      platform: 'node',
      logLevel: 'silent',
      output: { file: join(away, 'app.mjs'), format: 'esm', codeSplitting: false },
    });
    // Far from any node_modules, debug output asked for: debug is not in the bundle.
    const output = execFileSync(process.execPath, [join(away, 'app.mjs')], {
      cwd: away,
      encoding: 'utf8',
      env: { ...process.env, DEBUG: 'nlsq-memory:*' },
    });
    rmSync(away, { recursive: true, force: true });
    expect(JSON.parse(output)).toEqual({
      method: 'systeminformation',
      thresholdGb: 24,
      strategy: 'out_of_core',
    });
  });

  it('says what a bundler left out where the library is missing beside the entry', () => {
    const away = mkdtempSync(join(tmpdir(), 'nlsq-memory-entry-'));
    cpSync(join(scratch, 'node_modules/nlsq-memory/dist/index.js'), join(away, 'index.mjs'));
    const { status, stderr } = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `(await import(${JSON.stringify(pathToFileURL(join(away, 'index.mjs')).href)})).detectMemorySync();`,
      ],
      { encoding: 'utf8' },
    );
    rmSync(away, { recursive: true, force: true });
    expect(status).toBe(1);
    expect(stderr).toContain(
      `nlsq-memory cannot find ./core.cjs beside its entry: a bundler that does not take the package's "module" condition left it out.`,
    );
  });

  it('installs the nlsq-memory command', () => {
    const output = execSync(
      'npx --no-install nlsq-memory --json --total-memory-gb 32 --points 100000000 --params 53',
      {
        cwd: scratch,
        encoding: 'utf8',
      },
    );
    expect(JSON.parse(output).decision).toMatchObject(expected);
  });
});
