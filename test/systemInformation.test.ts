import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadSystemInformation } from '../src/sources/systemInformation.js';

const dist = pathToFileURL(fileURLToPath(new URL('../dist/index.js', import.meta.url))).href;

describe("systeminformation's parts", () => {
  it('gives the memory and graphics modules, each with its function', async () => {
    const memory = await loadSystemInformation<{ mem?: unknown }>('memory');
    const graphics = await loadSystemInformation<{ graphics?: unknown }>('graphics');
    expect([typeof memory.mem, typeof graphics.graphics]).toEqual(['function', 'function']);
  });

  it('falls back to the index where a part is not there', async () => {
    const index = await loadSystemInformation<{ mem?: unknown; cpu?: unknown }>(
      'no-such-part' as 'memory',
    );
    expect([typeof index.mem, typeof index.cpu]).toEqual(['function', 'function']);
  });

  it('loads only the memory module on the first detection, not the index and every module', () => {
    const output = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { createRequire } from 'node:module';
         const { detectMemory } = await import(${JSON.stringify(dist)});
         const report = await detectMemory();
         const files = Object.keys(createRequire(import.meta.url).cache)
           .filter((file) => /systeminformation[\\\\/]lib[\\\\/]/.test(file))
           .map((file) => file.split(/[\\\\/]/).at(-1));
         console.log(JSON.stringify({ method: report.detectionMethod, files: files.sort() }));`,
      ],
      { encoding: 'utf8', timeout: 15_000 },
    );
    const { method, files } = JSON.parse(output);
    expect(method).toBe('systeminformation');
    expect(files).toContain('memory.js');
    expect(files).not.toContain('index.js');
    expect(files).not.toContain('cpu.js');
  });
});
