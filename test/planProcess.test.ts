import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

// dist/ is built by test/globalSetup.ts before any test runs.
const dist = pathToFileURL(fileURLToPath(new URL('../dist/index.js', import.meta.url))).href;

interface Allocated {
  strategy: string;
  chunkPoints: number;
  chunkCount: number;
  chunkJacobianBytes: number;
  byteLength: number;
  filled: number;
  arrayBuffers: number;
}

/** Plans in a fresh Node.js process, allocates one chunk's Jacobian as a Float64Array, and fills it. */
function allocate(nPoints: number, nParams: number, options: object): Allocated {
  const script = `
    const { planNlsqFitSync } = await import(${JSON.stringify(dist)});
    const plan = planNlsqFitSync(${nPoints}, ${nParams}, ${JSON.stringify({ ...options, env: {} })});
    const jacobian = new Float64Array(plan.chunkPoints * ${nParams});
    jacobian.fill(1);
    let filled = 0;
    for (let i = 0; i < jacobian.length; i += 1) filled += jacobian[i];
    console.log(JSON.stringify({
      strategy: plan.decision.strategy,
      chunkPoints: plan.chunkPoints,
      chunkCount: plan.chunkCount,
      chunkJacobianBytes: plan.chunkJacobianBytes,
      byteLength: jacobian.byteLength,
      filled,
      arrayBuffers: process.memoryUsage().arrayBuffers,
    }));
  `;
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 15_000,
  });
  return JSON.parse(output) as Allocated;
}

describe('a planned chunk, in a fresh process', () => {
  it.each([
    ['out_of_core', 1_000_000, 53, { totalMemoryBytes: 16 * 1024 ** 2, minChunkPoints: 1000 }],
    ['hybrid_streaming', 23_000_000, 53, { totalMemoryBytes: 4 * 1024 ** 2, alignTo: 23 }],
    [
      'standard',
      100_000,
      10,
      { totalMemoryBytes: 100 * 1024 ** 2, maxTypedArrayElements: 250_000 },
    ],
  ] as const)('allocates as a Float64Array: %s', (strategy, nPoints, nParams, options) => {
    const result = allocate(nPoints, nParams, options);
    expect(result.strategy).toBe(strategy);
    expect(result.chunkPoints).toBeGreaterThan(0);
    expect(result.chunkCount).toBe(Math.ceil(nPoints / result.chunkPoints));
    expect(result.byteLength).toBe(result.chunkJacobianBytes);
    expect(result.filled).toBe(result.chunkPoints * nParams);
    expect(result.arrayBuffers).toBeGreaterThanOrEqual(result.chunkJacobianBytes);
    // Within a budget of a few MiB, the block itself is small.
    expect(result.chunkJacobianBytes).toBeLessThan(options.totalMemoryBytes);
  });
});
