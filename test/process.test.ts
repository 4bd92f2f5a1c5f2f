import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = pathToFileURL(fileURLToPath(new URL('../dist/index.js', import.meta.url))).href;

/** Runs an ES module script in a fresh Node.js process and parses the JSON it prints. */
function run(script: string): unknown {
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 15_000,
  });
  return JSON.parse(output);
}

describe('a fresh process', () => {
  it('parses only the entry at import; the first call of any function loads the library', () => {
    const result = run(`
      import { createRequire } from 'node:module';
      const cache = createRequire(import.meta.url).cache;
      const loaded = () => Object.keys(cache).filter((file) => /[\\\\/]dist[\\\\/]/.test(file)).map((file) => file.split(/[\\\\/]/).at(-1));
      const api = await import(${JSON.stringify(dist)});
      const atImport = loaded();
      const threshold = api.getAdaptiveMemoryThresholdSync({ totalMemoryBytes: 2 ** 30 }).thresholdGb;
      console.log(JSON.stringify({ atImport, afterCall: loaded(), threshold }));
    `);
    expect(result).toEqual({ atImport: [], afterCall: ['core.cjs'], threshold: 0.75 });
  });

  it("exports from its entry every name of the library's, each function with its name and arity", () => {
    const result = run(`
      import { createRequire } from 'node:module';
      import { types } from 'node:util';
      const entry = await import(${JSON.stringify(dist)});
      const core = createRequire(import.meta.url)(${JSON.stringify(fileURLToPath(new URL('../dist/core.cjs', import.meta.url)))});
      const shape = (module) => Object.keys(module).filter((name) => name !== '__esModule').sort().map((name) => {
        const value = module[name];
        return typeof value === 'function'
          ? [name, value.name, value.length, types.isAsyncFunction(value)]
          : [name, value, Object.isFrozen(value)];
      });
      console.log(JSON.stringify({ entry: shape(entry), core: shape(core) }));
    `) as { entry: unknown[]; core: unknown[] };
    expect(result.entry).toEqual(result.core);
    expect(result.entry.length).toBeGreaterThanOrEqual(20);
  });

  it('says at import which Node.js it needs, where process.getBuiltinModule is missing', () => {
    const { status, stderr } = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `delete process.getBuiltinModule; await import(${JSON.stringify(dist)});`,
      ],
      { encoding: 'utf8' },
    );
    expect(status).toBe(1);
    expect(stderr).toMatch(
      /nlsq-memory needs Node\.js 20\.16 or later in 20, 22\.3 or later after it \(process\.getBuiltinModule\); this is v\d+/,
    );
  });

  it('loads neither systeminformation nor debug on import, and systeminformation on the first detection', () => {
    const result = run(`
      delete process.env.DEBUG;
      import { createRequire } from 'node:module';
      const cache = createRequire(import.meta.url).cache;
      const loaded = () => Object.keys(cache).filter((file) => /node_modules[\\\\/](systeminformation|debug)[\\\\/]/.test(file)).map((file) => file.includes('systeminformation') ? 'systeminformation' : 'debug');
      const api = await import(${JSON.stringify(dist)});
      const atImport = [...new Set(loaded())];
      await api.detectMemory();
      console.log(JSON.stringify({ atImport, afterDetection: [...new Set(loaded())].sort() }));
    `);
    expect(result).toEqual({ atImport: [], afterDetection: ['systeminformation'] });
  });

  it('loads debug when DEBUG is set, and logs under nlsq-memory:detect', () => {
    const { stderr, status } = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { detectMemory } = await import(${JSON.stringify(dist)}); await detectMemory();`,
      ],
      { encoding: 'utf8', env: { ...process.env, DEBUG: 'nlsq-memory:*', DEBUG_COLORS: 'no' } },
    );
    expect(status).toBe(0);
    expect(stderr).toMatch(
      /nlsq-memory:detect host \d+ bytes from systeminformation in \d+\.\d\d ms/,
    );
  });

  it('exits as soon as systeminformation answers, despite a long time budget', () => {
    const started = Date.now();
    const result = run(`
      const { detectMemory } = await import(${JSON.stringify(dist)});
      const report = await detectMemory({ timeoutMs: 600000, probes: { loadSystemInformation: async () => ({ mem: async () => ({ total: 2 ** 33 }) }) } });
      console.log(JSON.stringify(report.detectionMethod));
    `);
    expect(result).toBe('systeminformation');
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('waits for the fallback when systeminformation hangs with nothing else keeping it alive', () => {
    const result = run(`
      const { detectMemory } = await import(${JSON.stringify(dist)});
      const report = await detectMemory({ timeoutMs: 100, probes: { loadSystemInformation: async () => ({ mem: () => new Promise(() => {}) }) } });
      console.log(JSON.stringify(report.detectionMethod));
    `);
    expect(result).toBe('os');
  });
});
