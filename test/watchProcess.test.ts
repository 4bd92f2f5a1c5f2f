import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = pathToFileURL(fileURLToPath(new URL('../dist/index.js', import.meta.url))).href;

/** Runs an ES module script in a fresh process; returns its output and how long it lived. */
function run(script: string) {
  const started = Date.now();
  const { stdout, status } = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 15_000,
  });
  return { stdout: stdout.trim(), status, ms: Date.now() - started };
}

const fakeHost = `probes: { loadSystemInformation: async () => ({ mem: async () => ({ total: 2 ** 34 }) }) }`;

describe('a watch in a fresh process', () => {
  it('does not keep a finished process alive when nobody closes it', () => {
    const { stdout, status, ms } = run(`
      const { watchMemory } = await import(${JSON.stringify(dist)});
      const watch = watchMemory({ intervalMs: 50, ${fakeHost} });
      watch.next();
      console.log('started');
    `);
    expect({ stdout, status }).toEqual({ stdout: 'started', status: 0 });
    expect(ms).toBeLessThan(10_000);
  });

  it('ends promptly, with the loop finishing, when its signal aborts', () => {
    const { stdout, status } = run(`
      const { watchMemory } = await import(${JSON.stringify(dist)});
      const controller = new AbortController();
      const keepAlive = setInterval(() => {}, 1000);
      setTimeout(() => controller.abort(), 200);
      const started = Date.now();
      for await (const event of watchMemory({ intervalMs: 50, signal: controller.signal, ${fakeHost} })) {
        console.log('event', event.type);
      }
      clearInterval(keepAlive);
      console.log('ended after', Date.now() - started < 2000 ? 'less than 2 s' : 'too long');
    `);
    expect({ stdout, status }).toEqual({ stdout: 'ended after less than 2 s', status: 0 });
  });
});
