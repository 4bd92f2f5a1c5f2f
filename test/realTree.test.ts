import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { detectMemorySync } from '../src/index.js';

describe("this machine's own cgroup tree", () => {
  it('finds, by reading the cgroup files, any limit that process.constrainedMemory() reports', () => {
    const report = detectMemorySync({ refresh: true, env: {} });
    expect(report).not.toBeNull();
    const constrained =
      typeof process.constrainedMemory === 'function' ? process.constrainedMemory() : undefined;
    const realLimit = constrained !== undefined && constrained > 0 && constrained < os.totalmem();
    if (realLimit) {
      expect(report?.limitBytes).not.toBeNull();
      expect(report?.limitBytes).toBeLessThanOrEqual(constrained);
      // A tie goes to the cgroup reading, so 'node' means the cgroup files missed the limit.
      expect(report?.limitSource).not.toBe('node');
    } else {
      expect(report?.limitSource === null || report?.limitSource?.startsWith('cgroup')).toBe(true);
    }
    expect(report?.totalBytes).toBeLessThanOrEqual(os.totalmem());
  });
});
