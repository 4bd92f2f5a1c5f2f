import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, vi } from 'vitest';
import { resetWarnings } from '../src/core/diagnostics.js';
import type { DeviceProbes, HostProbes, SystemInformationLike } from '../src/index.js';

export const GIB = 1024 ** 3;
export const MIB = 1024 ** 2;

const trees: string[] = [];
afterAll(() => {
  for (const tree of trees.splice(0)) rmSync(tree, { recursive: true, force: true });
});

/** Writes a fake `/proc` and `/sys` tree (path → content) to a temporary folder and returns its root. */
export function makeTree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'nlsq-memory-tree-'));
  trees.push(root);
  for (const [path, content] of Object.entries(files)) {
    const file = join(root, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  return root;
}

/** A mountinfo line in the kernel's format. */
export function mountLine(
  id: number,
  root: string,
  mountPoint: string,
  fsType: string,
  superOptions: string,
): string {
  return `${id} 23 0:${id} ${root} ${mountPoint} rw,nosuid,nodev,noexec,relatime shared:${id} - ${fsType} ${fsType} ${superOptions}`;
}

/** A `memory.stat` file with the given keys. */
export function memoryStat(values: Record<string, number | string>): string {
  return `${Object.entries(values)
    .map(([key, value]) => `${key} ${value}`)
    .join('\n')}\n`;
}

/** `/proc/meminfo` with the given MemTotal and MemAvailable in bytes. */
export function meminfo(totalBytes: number, availableBytes: number): string {
  return `MemTotal:       ${totalBytes / 1024} kB\nMemFree:         1024 kB\nMemAvailable:   ${availableBytes / 1024} kB\n`;
}

/** Host probes whose systeminformation answers `total` (counted in `calls.mem`). */
export function probesWith(
  total: unknown,
  fallback = 0,
): HostProbes & { calls: { load: number; mem: number } } {
  const calls = { load: 0, mem: 0 };
  const systemInformation: SystemInformationLike = {
    mem: async () => {
      calls.mem += 1;
      return { total };
    },
  };
  return {
    calls,
    loadSystemInformation: async () => {
      calls.load += 1;
      return systemInformation;
    },
    totalmem: () => fallback,
    // A heap limit of 4 GiB, as Node.js sets on a machine with 16 GiB or more.
    heapSizeLimit: () => 4 * GIB,
  };
}

/**
 * Spies on `process.emitWarning`; returns the codes and messages emitted since. Forgets the
 * warnings already emitted once, so that each can be seen again.
 */
export function captureWarnings(): { code: string | undefined; message: string }[] {
  resetWarnings();
  const warnings: { code: string | undefined; message: string }[] = [];
  vi.spyOn(process, 'emitWarning').mockImplementation((warning, options) => {
    const code =
      typeof options === 'object' && options !== null && 'code' in options
        ? options.code
        : undefined;
    warnings.push({ code, message: String(warning) });
  });
  return warnings;
}

/**
 * Writes shell scripts (name → body, after `#!/bin/sh`) to a temporary folder, executable, and
 * returns the folder: a PATH of fake tools. Scripts set their own PATH for the utilities they run.
 */
export function makeBin(scripts: Record<string, string> = {}): string {
  const bin = makeTree({});
  for (const [name, body] of Object.entries(scripts)) writeScript(join(bin, name), body);
  return bin;
}

/** Writes one executable shell script. */
export function writeScript(file: string, body: string): void {
  writeFileSync(file, `#!/bin/sh\nPATH=/usr/bin:/bin\n${body}\n`);
  chmodSync(file, 0o755);
}

/** The lines a fake tool appended to a counter file: one per run. */
export function runsIn(file: string): number {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
}

/**
 * Whether a process still runs. A zombie does not: it is dead, and waits for an init that reaps
 * orphans (some container inits never do), so `process.kill(pid, 0)` alone would still find it.
 */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    // No /proc (macOS): kill(pid, 0) answered. Gone from /proc on Linux: it just ended.
    return process.platform !== 'linux';
  }
}

/** Probes whose `graphics()` answers `data` (or rejects with it when it is an Error), counting calls. */
export function graphicsProbes(data: unknown = { controllers: [] }): DeviceProbes & {
  calls: { graphics: number };
} {
  const calls = { graphics: 0 };
  return {
    calls,
    loadSystemInformation: async () => ({
      graphics: async () => {
        calls.graphics += 1;
        if (data instanceof Error) throw data;
        return data;
      },
    }),
  };
}

/** Device probes of a machine without a GPU: `graphics()` lists none. */
export const noGpu: DeviceProbes = graphicsProbes();
