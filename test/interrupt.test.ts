// The tools a process started never outlive it: the command interrupted during a slow device
// listing ends at once, and a library process that exits during a run leaves no tool behind. Real
// child processes of dist/, with a fake nvidia-smi that starts a child of its own and sleeps.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { isRunning, makeBin, writeScript } from './helpers.js';

const posix = it.skipIf(process.platform === 'win32');
const cli = fileURLToPath(new URL('../dist/cli.cjs', import.meta.url));
const dist = pathToFileURL(fileURLToPath(new URL('../dist/index.js', import.meta.url))).href;

/** A PATH whose nvidia-smi writes its pid and its child's to `<bin>/pids`, then waits. */
function slowTool(): { bin: string; pids: string } {
  const bin = makeBin();
  const pids = join(bin, 'pids');
  writeScript(
    join(bin, 'nvidia-smi'),
    `sleep 60 &\necho "$$ $!" > '${pids}.tmp'\nmv '${pids}.tmp' '${pids}'\nwait`,
  );
  return { bin, pids };
}

/** The pids the slow tool wrote, once it has. */
async function toolPids(file: string): Promise<number[]> {
  await vi.waitFor(() => expect(readFileSync(file, 'utf8')).toMatch(/^\d+ \d+\n/), {
    timeout: 10_000,
    interval: 10,
  });
  return readFileSync(file, 'utf8').trim().split(' ').map(Number);
}

/** How `child` ended: its exit code or signal, and when. */
function ended(child: ChildProcess): Promise<{ code: number | null; at: number }> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve({ code, at: performance.now() }));
  });
}

async function expectGone(pids: number[]): Promise<void> {
  await vi.waitFor(
    () => {
      for (const pid of pids) expect(isRunning(pid), `process ${pid}`).toBe(false);
    },
    { timeout: 1000, interval: 10 },
  );
}

describe('the command, interrupted while it lists the GPUs', () => {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    posix(`exits ${code} within a second of ${signal}, and its tool is gone`, async () => {
      const { bin, pids } = slowTool();
      const child = spawn(process.execPath, [cli, '--device', '0'], {
        env: { PATH: bin },
        stdio: 'ignore',
      });
      const exit = ended(child);
      const tool = await toolPids(pids);
      for (const pid of tool) expect(isRunning(pid)).toBe(true);
      const sent = performance.now();
      child.kill(signal);
      const { code: status, at } = await exit;
      expect(status).toBe(code);
      expect(at - sent).toBeLessThan(1000);
      await expectGone(tool);
    });
  }
});

describe('a library process', () => {
  posix('that exits during a run leaves no tool behind', async () => {
    const { bin, pids } = slowTool();
    const script = `
      import { existsSync } from 'node:fs';
      const { detectDeviceMemory } = await import(${JSON.stringify(dist)});
      detectDeviceMemory({ timeoutMs: 60_000, env: { PATH: ${JSON.stringify(bin)} } });
      setInterval(() => { if (existsSync(${JSON.stringify(pids)})) process.exit(3); }, 10);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: 'ignore',
    });
    const { code } = await ended(child);
    expect(code).toBe(3);
    await expectGone(await toolPids(pids));
  });
});

describe('a library process interrupted during a run', () => {
  /** A process that lists the GPUs with the slow tool; `handler` is its own SIGINT code, if any. */
  function listing(bin: string, handler = '') {
    const script = `
      ${handler}
      const { detectDeviceMemory } = await import(${JSON.stringify(dist)});
      await detectDeviceMemory({ timeoutMs: 60_000, env: { PATH: ${JSON.stringify(bin)} } });
    `;
    return spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
  }

  posix('dies of the signal, as it would have, and its tool with it', async () => {
    const { bin, pids } = slowTool();
    const child = listing(bin);
    const died = new Promise((resolve) => child.once('exit', (_, signal) => resolve(signal)));
    const tool = await toolPids(pids);
    child.kill('SIGINT');
    expect(await died).toBe('SIGINT');
    await expectGone(tool);
  });

  posix(
    "leaves the signal to the program's own handler: the tool goes when the program exits",
    async () => {
      const { bin, pids } = slowTool();
      const child = listing(
        bin,
        "process.on('SIGINT', () => setTimeout(() => process.exit(7), 300));",
      );
      const exit = ended(child);
      const tool = await toolPids(pids);
      child.kill('SIGINT');
      await expectGone(tool);
      // The handler ran and chose the exit code: the signal did not end the process first.
      expect((await exit).code).toBe(7);
    },
  );
});
