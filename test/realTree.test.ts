import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { detectMemorySync } from '../src/index.js';

/** The hard limit of this process's own cgroup, read straight from its file, when it is one. */
function ownHardLimit(): number | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/self/cgroup', 'utf8');
  } catch {
    return undefined;
  }
  const limits: number[] = [];
  for (const line of text.split('\n')) {
    const [id, controllers, ...rest] = line.split(':');
    const path = rest.join(':');
    const file =
      id === '0' && controllers === ''
        ? `/sys/fs/cgroup${path}/memory.max`
        : controllers?.split(',').includes('memory')
          ? `/sys/fs/cgroup/memory${path}/memory.limit_in_bytes`
          : undefined;
    if (file === undefined || !existsSync(file)) continue;
    const bytes = Number(readFileSync(file, 'utf8').trim());
    if (Number.isSafeInteger(bytes) && bytes > 0 && bytes < os.totalmem()) limits.push(bytes);
  }
  return limits.length === 0 ? undefined : Math.min(...limits);
}

describe("this machine's own cgroup tree", () => {
  it('finds at least the hard limit of its own cgroup, from the files, not from Node', () => {
    const report = detectMemorySync({ refresh: true, env: {} });
    expect(report).not.toBeNull();
    const own = ownHardLimit();
    if (own !== undefined) expect(report?.limitBytes).toBeLessThanOrEqual(own);
    if (existsSync('/proc/self/cgroup') && existsSync('/sys/fs/cgroup')) {
      expect(report?.limitSource).not.toBe('node');
    }
    expect(report?.totalBytes).toBeLessThanOrEqual(os.totalmem());
  });
});
