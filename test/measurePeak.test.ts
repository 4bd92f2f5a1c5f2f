// Measuring a fit's real peak: cgroup v2 memory.peak where it can be reset (fake trees here),
// else this process's resident set, sampled (measured for real).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startPeakMeasurement } from '../src/index.js';
import { MIB, makeTree, mountLine } from './helpers.js';

const dist = pathToFileURL(fileURLToPath(new URL('../dist/index.js', import.meta.url))).href;

/** A v2 pod whose memory.peak and memory.current the test writes. */
function pod() {
  const fsRoot = makeTree({
    'proc/self/cgroup': '0::/\n',
    'proc/self/mountinfo': `${mountLine(30, '/', '/sys/fs/cgroup', 'cgroup2', 'rw')}\n`,
    'sys/fs/cgroup/cgroup.controllers': 'cpu memory pids\n',
    'sys/fs/cgroup/memory.current': `${400 * MIB}\n`,
    'sys/fs/cgroup/memory.peak': `${900 * MIB}\n`,
  });
  const write = (file: string, bytes: number) =>
    writeFileSync(join(fsRoot, 'sys/fs/cgroup', file), `${bytes}\n`);
  return { fsRoot, write };
}

describe('startPeakMeasurement', () => {
  it("reads cgroup v2's memory.peak, reset for this measurement, over memory.current at its start", () => {
    const { fsRoot, write } = pod();
    const probe = startPeakMeasurement({ fsRoot });
    // The kernel would now count from the reset: this is what it saw during the fit.
    write('memory.peak', 650 * MIB);
    write('memory.current', 420 * MIB);
    const measurement = probe.stop();
    expect(measurement).toMatchObject({
      source: 'memory.peak',
      baselineBytes: 400 * MIB,
      peakBytes: 650 * MIB,
    });
    expect(measurement.durationMs).toBeGreaterThanOrEqual(0);
    expect(probe.stop()).toBe(measurement);
  });

  it('measures a 200 MiB allocation between start and stop within 10%, by sampling', async () => {
    // No cgroup here: the resident set is sampled, as on cgroup v1 and older kernels.
    const probe = startPeakMeasurement({ fsRoot: makeTree({}), intervalMs: 5 });
    let held: Buffer | undefined = Buffer.alloc(200 * MIB, 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const measurement = probe.stop();
    held = undefined;
    expect(held).toBeUndefined();
    expect(measurement.source).toBe('sampled-rss');
    const added = measurement.peakBytes - measurement.baselineBytes;
    expect(added).toBeGreaterThan(0.9 * 200 * MIB);
    expect(added).toBeLessThan(1.1 * 200 * MIB);
  });

  it('keeps no process alive: a measurement nobody stops lets the script end', () => {
    const script = `
      const { startPeakMeasurement } = await import(${JSON.stringify(dist)});
      startPeakMeasurement({ fsRoot: ${JSON.stringify(makeTree({}))}, intervalMs: 5 });
      console.log('started');
    `;
    const started = Date.now();
    const { stdout, status } = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect({ stdout, status }).toEqual({ stdout: 'started\n', status: 0 });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it.runIf(process.platform === 'linux')(
    'lets go of the memory.peak descriptor and the sampling timer of a measurement nobody stops',
    () => {
      const { fsRoot } = pod();
      const script = `
        const { readdirSync } = await import('node:fs');
        const { startPeakMeasurement } = await import(${JSON.stringify(dist)});
        const descriptors = () => readdirSync('/proc/self/fd').length;
        let samples = 0;
        const rss = process.memoryUsage.rss;
        process.memoryUsage.rss = () => (samples += 1, rss());
        const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
        const before = descriptors();
        for (let i = 0; i < 50; i++) startPeakMeasurement({ fsRoot: ${JSON.stringify(fsRoot)} });
        for (let i = 0; i < 20; i++) startPeakMeasurement({ fsRoot: '/nonexistent', intervalMs: 1 });
        const open = descriptors() - before;
        for (let i = 0; i < 5; i++) { globalThis.gc(); await pause(20); }
        const sampled = samples;
        await pause(200);
        console.log(JSON.stringify({ open, left: descriptors() - before, sampledSince: samples - sampled }));
      `;
      const { stdout, stderr } = spawnSync(
        process.execPath,
        ['--expose-gc', '--input-type=module', '-e', script],
        { encoding: 'utf8', timeout: 10_000 },
      );
      expect(stderr).toBe('');
      expect(JSON.parse(stdout)).toEqual({ open: 50, left: 0, sampledSince: 0 });
    },
  );

  it.each([
    [{ intervalMs: 0 }, RangeError, /`intervalMs`/],
    [{ intervalMs: '20' }, TypeError, /`intervalMs`/],
    [{ fsRoot: '' }, RangeError, /`fsRoot`/],
    [{ interval: 20 }, TypeError, /Unknown option `interval`: did you mean `intervalMs`\?/],
  ])('rejects %o', (options, type, message) => {
    const start = () => startPeakMeasurement(options as never);
    expect(start).toThrow(type);
    expect(start).toThrow(message);
  });
});
