import { format } from 'node:util';
import createDebug from 'debug';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { detectMemory, selectNlsqStrategy } from '../src/index.js';
import { GIB, makeTree, probesWith } from './helpers.js';

const lines: string[] = [];
const originalLog = createDebug.log;
createDebug.log = (...args: unknown[]) => {
  lines.push(format(...args));
};
afterAll(() => {
  createDebug.log = originalLog;
  createDebug.disable();
});

describe('debug output', () => {
  it('is silent unless enabled', async () => {
    createDebug.disable();
    await selectNlsqStrategy(1000, 3, { totalMemoryBytes: GIB });
    expect(lines).toEqual([]);
  });

  it('says which source won and how long detection and selection took', async () => {
    createDebug.enable('nlsq-memory:*');
    const fsRoot = makeTree({});
    await detectMemory({ fsRoot, env: { SLURM_MEM_PER_NODE: '512' }, probes: probesWith(8 * GIB) });
    await selectNlsqStrategy(1_000_000, 10, {
      fsRoot,
      env: {},
      probes: probesWith(0, 4 * GIB),
      memoryFraction: 0.5,
    });
    const text = lines.join('\n');
    expect(text).toMatch(
      /nlsq-memory:detect host 8589934592 bytes from systeminformation in \d+\.\d\d ms/,
    );
    expect(text).toMatch(
      /nlsq-memory:detect limit 536870912 bytes from slurm \(SLURM_MEM_PER_NODE\)/,
    );
    expect(text).toMatch(/nlsq-memory:detect systeminformation gave total 0/);
    expect(text).toMatch(/nlsq-memory:detect host 4294967296 bytes from os in/);
    expect(text).toMatch(
      /nlsq-memory:threshold threshold 2\.00 GB \(50% of 4\.00 GB total, fraction from argument, memory from os, limit none\)/,
    );
    expect(text).toMatch(
      /nlsq-memory:strategy selected standard for 1000000 points x 10 params in \d+\.\d{3} ms/,
    );
  });
});

describe('debug output of the command', () => {
  it('logs a threshold computed twice from one snapshot once, and no GPU source it did not ask', async () => {
    createDebug.enable('nlsq-memory:*');
    lines.length = 0;
    let graphicsAsked = 0;
    const code = await main(['--points', '1e8', '--params', '53', '--plan'], {
      stdout: () => {},
      stderr: () => {},
      env: {},
      fsRoot: makeTree({}),
      probes: probesWith(8 * GIB),
      deviceProbes: {
        loadSystemInformation: async () => {
          graphicsAsked += 1;
          return { graphics: async () => ({ controllers: [] }) };
        },
      },
    });
    expect(code).toBe(0);
    expect(graphicsAsked).toBe(0);
    const text = lines.join('\n');
    expect(text.match(/nlsq-memory:threshold threshold /g)).toHaveLength(1);
    expect(text).not.toMatch(/nlsq-memory:device.*systeminformation/);
  });
});

describe('a repeated debug line', () => {
  it('is logged again in a later turn of the event loop: a retry is seen', async () => {
    createDebug.enable('nlsq-memory:*');
    lines.length = 0;
    const options = { totalMemoryBytes: GIB, env: {} };
    await selectNlsqStrategy(1000, 3, options);
    await selectNlsqStrategy(1000, 3, options);
    await new Promise((resolve) => setImmediate(resolve));
    await selectNlsqStrategy(1000, 3, options);
    const thresholds = lines.filter((line) => line.includes('nlsq-memory:threshold threshold '));
    expect(thresholds).toHaveLength(2);
  });
});
