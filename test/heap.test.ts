// The V8 heap ignores the limit: Node.js sizes it from physical RAM. Child processes started with
// a real --max-old-space-size, above and below a fake 1 GiB limit, say so or stay silent.
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { run } from './cliRun.js';
import { GIB, makeTree, mountLine, probesWith } from './helpers.js';

const dist = pathToFileURL(fileURLToPath(new URL('../dist/index.js', import.meta.url))).href;

/** A pod limited to 1 GiB on a 64 GiB host. */
const pod = makeTree({
  'proc/self/cgroup': '0::/\n',
  'proc/self/mountinfo': `${mountLine(30, '/', '/sys/fs/cgroup', 'cgroup2', 'rw')}\n`,
  'sys/fs/cgroup/memory.max': `${GIB}\n`,
});

/** Detects in a child process whose heap may grow to `mib`; its report and warnings. */
function detectWithHeap(mib: number) {
  const script = `
    const warnings = [];
    process.on('warning', (warning) => warnings.push({ code: warning.code, message: warning.message }));
    const { detectMemorySync } = await import(${JSON.stringify(dist)});
    const report = detectMemorySync({ fsRoot: ${JSON.stringify(pod)}, env: {}, probes: { totalmem: () => 2 ** 36 } });
    await new Promise((resolve) => setImmediate(resolve));
    console.log(JSON.stringify({ report, warnings }));
  `;
  const { stdout, status } = spawnSync(
    process.execPath,
    [`--max-old-space-size=${mib}`, '--input-type=module', '-e', script],
    { encoding: 'utf8' },
  );
  expect(status).toBe(0);
  return JSON.parse(stdout) as {
    report: { heapLimitBytes: number; totalBytes: number };
    warnings: { code: string; message: string }[];
  };
}

describe('the V8 heap against the limit', () => {
  it('warns, with a --max-old-space-size that fits, when the heap may outgrow the limit', () => {
    const { report, warnings } = detectWithHeap(4096);
    expect(report.totalBytes).toBe(GIB);
    expect(report.heapLimitBytes).toBeGreaterThanOrEqual(4096 * 2 ** 20);
    expect(warnings).toEqual([
      {
        code: 'NLSQ_MEMORY_HEAP_ABOVE_LIMIT',
        message: expect.stringMatching(
          /^The V8 heap may grow to [\d.]+ GB, above the 1\.00 GB this process may use: start node with --max-old-space-size=256$/,
        ),
      },
    ]);
  });

  it('is silent when the heap was sized to fit, as the warning said', () => {
    const { report, warnings } = detectWithHeap(256);
    expect(report.heapLimitBytes).toBeLessThan(GIB);
    expect(warnings).toEqual([]);
  });

  it('shows in the command, with the flag that fits', async () => {
    const heap = { ...probesWith(64 * GIB), heapSizeLimit: () => 4 * GIB };
    const { code, stdout } = await run([], { fsRoot: pod, probes: heap });
    expect(code).toBe(0);
    expect(stdout).toContain(
      'V8 heap limit  4.00 GB, above the 1.00 GB limit: start node with --max-old-space-size=256\n',
    );
    const json = JSON.parse((await run(['--json'], { fsRoot: pod, probes: heap })).stdout);
    expect(json.memory.heapLimitBytes).toBe(4 * GIB);
  });
});

describe('a limit too small for any heap', () => {
  it.each([
    [4 * 2 ** 20, 1],
    [60 * 2 ** 20, 15],
  ])('of %d bytes gives no flag to start with, but more memory', async (limit, mib) => {
    const tiny = makeTree({
      'proc/self/cgroup': '0::/\n',
      'proc/self/mountinfo': `${mountLine(30, '/', '/sys/fs/cgroup', 'cgroup2', 'rw')}\n`,
      'sys/fs/cgroup/memory.max': `${limit}\n`,
    });
    const heap = { ...probesWith(64 * GIB), heapSizeLimit: () => 4 * GIB };
    const { stdout } = await run([], { fsRoot: tiny, probes: heap });
    expect(stdout).toMatch(
      new RegExp(
        `^V8 heap limit +4\\.00 GB, above the [\\d.]+ GB limit: no --max-old-space-size fits: ${mib} MiB is too little for Node\\.js itself; give the job more memory$`,
        'm',
      ),
    );
  });

  it('of 64 MiB still gets the flag: 16 MiB of heap starts Node.js', async () => {
    const small = makeTree({
      'proc/self/cgroup': '0::/\n',
      'proc/self/mountinfo': `${mountLine(30, '/', '/sys/fs/cgroup', 'cgroup2', 'rw')}\n`,
      'sys/fs/cgroup/memory.max': `${64 * 2 ** 20}\n`,
    });
    const heap = { ...probesWith(64 * GIB), heapSizeLimit: () => 4 * GIB };
    expect((await run([], { fsRoot: small, probes: heap })).stdout).toContain(
      'start node with --max-old-space-size=16\n',
    );
  });
});
