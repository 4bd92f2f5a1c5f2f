import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, vi } from 'vitest';
import { resetWarnings } from '../src/diagnostics.js';
import type { HostProbes, SystemInformationLike } from '../src/memoryDetect.js';

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
