// A watch in a fresh process, as a user's script runs it: alive while a loop awaits it, never
// holding a process nobody waits on.
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const distPath = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const dist = pathToFileURL(distPath).href;

/** Runs a script in a fresh process; returns its output, exit code and how long it lived. */
function run(script: string, type: 'module' | 'commonjs' = 'module') {
  const started = Date.now();
  const { stdout, stderr, status } = spawnSync(
    process.execPath,
    [`--input-type=${type}`, '-e', script],
    { encoding: 'utf8', timeout: 15_000 },
  );
  return { stdout: stdout.trim(), stderr, status, ms: Date.now() - started };
}

const fakeHost = `probes: { loadSystemInformation: async () => ({ mem: async () => ({ total: 2 ** 34 }) }) }`;

describe('a watch in a fresh process', () => {
  it('holds no process that nobody awaits, even unclosed', () => {
    const { stdout, status, ms } = run(`
      const { watchMemory, watchNlsqStrategy } = await import(${JSON.stringify(dist)});
      watchMemory({ intervalMs: 50, ${fakeHost} });
      watchNlsqStrategy(1e6, 10, { intervalMs: 50, ${fakeHost} });
      console.log('started');
    `);
    expect({ stdout, status }).toEqual({ stdout: 'started', status: 0 });
    expect(ms).toBeLessThan(10_000);
  });

  it.each(['watchMemory({', 'watchNlsqStrategy(1e6, 10, {'])(
    'keeps a script whose only job is `for await` over %s …}) alive until its signal, then runs the code after the loop',
    (call) => {
      const { stdout, stderr, status } = run(`
        const { watchMemory, watchNlsqStrategy } = await import(${JSON.stringify(dist)});
        const started = Date.now();
        for await (const value of ${call} intervalMs: 50, signal: AbortSignal.timeout(600), ${fakeHost} })) {}
        const ms = Date.now() - started;
        console.log(ms >= 550 && ms < 5000 ? 'after the loop, on time' : 'after ' + ms + ' ms');
      `);
      expect({ stdout, stderr, status }).toEqual({
        stdout: 'after the loop, on time',
        stderr: '',
        status: 0,
      });
    },
  );

  it('keeps a CommonJS script alive the same way', () => {
    const { stdout, status } = run(
      `
      const { watchMemory } = require(${JSON.stringify(distPath)});
      (async () => {
        for await (const event of watchMemory({ intervalMs: 50, signal: AbortSignal.timeout(400), ${fakeHost} })) {}
        console.log('after the loop');
      })();
    `,
      'commonjs',
    );
    expect({ stdout, status }).toEqual({ stdout: 'after the loop', status: 0 });
  });

  it('lets the process end once a loop breaks, though nobody closed the watch', () => {
    const { stdout, status, ms } = run(`
      const { watchNlsqStrategy } = await import(${JSON.stringify(dist)});
      for await (const plan of watchNlsqStrategy(1e6, 10, { intervalMs: 50, ${fakeHost} })) {
        console.log(plan.decision.strategy);
        break;
      }
    `);
    expect({ stdout, status }).toEqual({ stdout: 'standard', status: 0 });
    expect(ms).toBeLessThan(10_000);
  });
});
