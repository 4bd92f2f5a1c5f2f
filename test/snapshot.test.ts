// With `report` (and `devices`), the answers are pure: computed from the snapshot, they read no
// file, run no tool, ask no probe, and agree with the same call given the budget it holds.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  detectMemory,
  getAdaptiveMemoryThreshold,
  getAdaptiveMemoryThresholdSync,
  type MemoryReport,
  planNlsqFit,
  planNlsqFitSync,
  selectNlsqStrategy,
  selectNlsqStrategySync,
} from '../src/index.js';
import {
  GIB,
  graphicsProbes,
  makeBin,
  makeTree,
  meminfo,
  mountLine,
  runsIn,
  writeScript,
} from './helpers.js';

/** A pod limited to 8 GiB on a 64 GiB host; `limit` rewrites its limit. */
function pod() {
  const fsRoot = makeTree({
    'proc/self/cgroup': '0::/\n',
    'proc/self/mountinfo': `${mountLine(30, '/', '/sys/fs/cgroup', 'cgroup2', 'rw')}\n`,
    'sys/fs/cgroup/memory.max': `${8 * GIB}\n`,
    'sys/fs/cgroup/memory.current': `${2 * GIB}\n`,
    'proc/meminfo': meminfo(64 * GIB, 40 * GIB),
  });
  return {
    fsRoot,
    limit: (bytes: number) => writeFileSync(join(fsRoot, 'sys/fs/cgroup/memory.max'), `${bytes}\n`),
  };
}

/** Probes that count every call: a snapshot must make none. */
function countingProbes() {
  const calls = { count: 0 };
  return {
    calls,
    probes: {
      loadSystemInformation: async () => {
        calls.count += 1;
        return { mem: async () => ({ total: 64 * GIB }) };
      },
      totalmem: () => {
        calls.count += 1;
        return 64 * GIB;
      },
      constrainedMemory: () => {
        calls.count += 1;
        return 0;
      },
    },
  };
}

describe('answers from a report', () => {
  it('read nothing: the files changed since, and the answers are still the snapshot’s', async () => {
    const { fsRoot, limit } = pod();
    const host = countingProbes();
    const report = (await detectMemory({
      fsRoot,
      env: {},
      probes: host.probes,
      refresh: true,
    })) as MemoryReport;
    expect(report).toMatchObject({ totalBytes: 8 * GIB, availableBytes: 6 * GIB });
    limit(2 * GIB);
    const before = host.calls.count;
    const options = { report, fsRoot, env: {}, probes: host.probes, refresh: true };
    const thresholds = [
      getAdaptiveMemoryThresholdSync(options),
      await getAdaptiveMemoryThreshold(options),
    ];
    for (const threshold of thresholds) expect(threshold.thresholdBytes).toBe(6 * GIB);
    expect(selectNlsqStrategySync(23_000_000, 53, options).thresholdGb).toBe(6);
    expect((await selectNlsqStrategy(23_000_000, 53, options)).thresholdGb).toBe(6);
    expect(planNlsqFitSync(23_000_000, 53, options).thresholdBytes).toBe(6 * GIB);
    expect((await planNlsqFit(23_000_000, 53, options)).thresholdBytes).toBe(6 * GIB);
    expect(host.calls.count).toBe(before);
  });

  it.each([
    ['total', undefined],
    ['available', 'available' as const],
  ])('agree with the same call given the budget the report holds (%s)', async (_, basis) => {
    const { fsRoot } = pod();
    const report = (await detectMemory({
      fsRoot,
      env: {},
      probes: countingProbes().probes,
      refresh: true,
    })) as MemoryReport;
    const fromReport = { report, env: {}, ...(basis === undefined ? {} : { basis }) };
    const budget = {
      env: {},
      totalMemoryBytes:
        basis === 'available' ? (report.availableBytes as number) : report.totalBytes,
    };
    for (const [n, p] of [
      [1_000_000, 10],
      [23_000_000, 53],
      [300_000_000, 10],
    ] as const) {
      expect(getAdaptiveMemoryThresholdSync(fromReport).thresholdBytes).toBe(
        getAdaptiveMemoryThresholdSync(budget).thresholdBytes,
      );
      expect(selectNlsqStrategySync(n, p, fromReport)).toEqual(
        selectNlsqStrategySync(n, p, budget),
      );
      expect(await planNlsqFit(n, p, { ...fromReport, alignTo: 23 })).toEqual(
        planNlsqFitSync(n, p, { ...budget, alignTo: 23 }),
      );
    }
  });

  it.skipIf(process.platform === 'win32')('run no GPU tool with `devices`', async () => {
    const bin = makeBin();
    const counter = join(bin, 'runs');
    writeScript(
      join(bin, 'nvidia-smi'),
      `echo run >> '${counter}'\necho "0, GPU-1, T4, 15360, 15000, [N/A]"`,
    );
    const devices = [
      {
        index: 0,
        uuid: null,
        name: 'T4',
        vendor: 'nvidia' as const,
        totalBytes: 16 * GIB,
        freeBytes: 8 * GIB,
        unifiedMemory: false,
        source: 'nvidia-smi' as const,
      },
    ];
    const options = { device: 0, devices, env: { PATH: bin }, deviceProbes: graphicsProbes() };
    expect((await getAdaptiveMemoryThreshold(options)).thresholdBytes).toBe(12 * GIB);
    expect(planNlsqFitSync(1_000_000, 10, { ...options, basis: 'available' }).thresholdBytes).toBe(
      6 * GIB,
    );
    expect(runsIn(counter)).toBe(0);
  });

  it('check the report they are given', () => {
    const bad = (report: unknown) => () =>
      getAdaptiveMemoryThresholdSync({ report: report as MemoryReport });
    expect(bad(5)).toThrow(/`report` to be an object, got 5/);
    expect(bad({ totalBytes: -1 })).toThrow(/`report.totalBytes` to be a non-negative integer/);
    expect(bad({ totalBytes: 1, availableBytes: Number.NaN })).toThrow(/`report.availableBytes`/);
  });
});

describe('a report made by hand', () => {
  const report: MemoryReport = {
    hostTotalBytes: 64 * GIB,
    detectionMethod: 'systeminformation',
    limitBytes: 8 * GIB,
    limitSource: 'cgroup-v2',
    limitOrigin: '/sys/fs/cgroup/memory.max',
    totalBytes: 8 * GIB,
    // The host's free memory, say, beside a cgroup's limit: more than the process may use.
    availableBytes: 40 * GIB,
    heapLimitBytes: null,
  };

  it('reads an available -0 as 0: nothing is -0', () => {
    const threshold = getAdaptiveMemoryThresholdSync({
      report: { ...report, availableBytes: -0 },
      basis: 'available',
    });
    for (const figure of [
      threshold.thresholdBytes,
      threshold.thresholdGb,
      threshold.info.totalMemoryGb,
    ]) {
      expect(Object.is(figure, 0)).toBe(true);
    }
  });

  it('never budgets more available than the total', () => {
    const threshold = getAdaptiveMemoryThresholdSync({ report, basis: 'available' });
    expect(threshold.thresholdBytes).toBe(6 * GIB);
    expect(threshold.info.basis).toBe('available');
  });
});
