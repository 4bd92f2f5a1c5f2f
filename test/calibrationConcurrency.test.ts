// Writers at once: in one process and in many, past a stale lock, never a lost observation, a
// corrupt file or a file left behind; and never a write without the lock.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { record } from '../src/answer/recording.js';
import { planNlsqFitSync, recordFitPeak } from '../src/index.js';
import { withObservation } from '../src/policy/calibration.js';
import { updateStore } from '../src/sources/calibrationWrite.js';
import { captureWarnings, GIB, makeTree } from './helpers.js';

const dist = pathToFileURL(fileURLToPath(new URL('../dist/index.js', import.meta.url))).href;
const plan = planNlsqFitSync(23_000_000, 53, { totalMemoryBytes: GIB, env: {} });

/** A fit that showed `overhead`. */
const showing = (overhead: number) =>
  ({
    peakBytes: 1e8 + plan.residentBytes + Math.round(overhead * plan.chunkJacobianBytes),
    baselineBytes: 1e8,
    source: 'sampled-rss',
    durationMs: 1,
  }) as const;

/** A store whose lock a writer that died 60 s ago left behind. */
function storeLockedLongAgo(): string {
  const store = join(makeTree({}), 'calibration.json');
  writeFileSync(`${store}.lock`, '');
  const minuteAgo = new Date(Date.now() - 60_000);
  utimesSync(`${store}.lock`, minuteAgo, minuteAgo);
  return store;
}

/** The observations in the file, sorted, and every other file beside it. */
function kept(store: string): { observations: number[]; others: string[] } {
  const data = JSON.parse(readFileSync(store, 'utf8'));
  const observations = data.entries.flatMap(
    (entry: { observations: number[] }) => entry.observations,
  );
  const others = readdirSync(join(store, '..')).filter((name) => name !== 'calibration.json');
  return {
    observations: observations
      .map((value: number) => Math.round(value * 1000) / 1000)
      .sort((a: number, b: number) => a - b),
    others,
  };
}

describe('ten records at once in one process, past a stale lock', () => {
  it('keep all ten, reject none, and leave one valid file, 30 times over', async () => {
    const expected = Array.from({ length: 10 }, (_, i) => 2 + i);
    for (let round = 0; round < 30; round++) {
      const store = storeLockedLongAgo();
      const results = await Promise.allSettled(
        expected.map((overhead) => recordFitPeak(plan, showing(overhead), { key: 'k', store })),
      );
      expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
      expect(kept(store)).toEqual({ observations: expected, others: [] });
    }
  });
});

describe('eight processes at once, past a stale lock', () => {
  it('keep every observation of each', async () => {
    const store = storeLockedLongAgo();
    const script = `
      const { planNlsqFitSync, recordFitPeak } = await import(${JSON.stringify(dist)});
      const plan = planNlsqFitSync(23_000_000, 53, { totalMemoryBytes: 2 ** 30, env: {} });
      const first = Number(process.argv[1]);
      await Promise.all([0, 1, 2, 3, 4].map((i) => recordFitPeak(plan, {
        peakBytes: 1e8 + plan.residentBytes + (first + i) * plan.chunkJacobianBytes,
        baselineBytes: 1e8, source: 'sampled-rss', durationMs: 1,
      }, { key: 'shared', store: ${JSON.stringify(store)} })));
    `;
    const run = promisify(execFile);
    await Promise.all(
      Array.from({ length: 8 }, (_, child) =>
        run(process.execPath, ['--input-type=module', '-e', script, String(2 + 5 * child)]),
      ),
    );
    expect(kept(store)).toEqual({
      observations: Array.from({ length: 40 }, (_, i) => 2 + i),
      others: [],
    });
  });
});

const at = { key: 'k', strategy: 'out_of_core', bytesPerElement: 8 } as const;
const adding = (overhead: number) => (store: Parameters<typeof withObservation>[0]) =>
  withObservation(store, at, overhead, Date.now());
const refusing = (code: string) => Object.assign(new Error(`${code}: rename refused`), { code });

describe('a rename Windows refuses while another process has the file open', () => {
  it('is tried again after a short pause', async () => {
    const store = join(makeTree({}), 'calibration.json');
    let refused = 0;
    const flaky = async (from: string, to: string) => {
      if (refused < 2) {
        refused += 1;
        throw refusing(refused === 1 ? 'EPERM' : 'EACCES');
      }
      await rename(from, to);
    };
    expect(await updateStore(store, adding(7), { rename: flaky })).toBeDefined();
    expect(refused).toBe(2);
    expect(kept(store)).toEqual({ observations: [7], others: [] });
  });

  it.each([
    ['refused every time', 'EPERM', 5],
    ['failing otherwise', 'EXDEV', 1],
  ])('rejects, %s, and leaves no temporary file and no lock behind', async (_, code, tries) => {
    const store = join(makeTree({}), 'calibration.json');
    let tried = 0;
    const failing = async () => {
      tried += 1;
      throw refusing(code);
    };
    const error = await updateStore(store, adding(7), { rename: failing }).catch((e) => e);
    expect(error.code).toBe(code);
    expect(tried).toBe(tries);
    expect(readdirSync(join(store, '..'))).toEqual([]);
  });
});

describe('a lock another writer holds', () => {
  it('past the wait: nothing is written, never without the lock, and a warning says so', async () => {
    const warnings = captureWarnings();
    const store = join(makeTree({}), 'calibration.json');
    writeFileSync(`${store}.lock`, 'another writer');
    const timing = { waitMs: 150, staleMs: 10_000 };
    const entry = await record(store, at, 7, { timing });
    expect(entry).toEqual({ key: 'k', observations: 0, overhead: null });
    expect(existsSync(store)).toBe(false);
    expect(readFileSync(`${store}.lock`, 'utf8')).toBe('another writer');
    expect(warnings).toEqual([
      {
        code: 'NLSQ_MEMORY_CALIBRATION_SKIPPED',
        message: `Nothing recorded for k: another writer held ${store}.lock for 0.15 s`,
      },
    ]);
  });

  it('taken from a writer that slept past stale: it commits nothing, and writes again in turn', async () => {
    const store = join(makeTree({}), 'calibration.json');
    let changes = 0;
    const written = await updateStore(store, (old) => {
      changes += 1;
      if (changes === 1) {
        // Meanwhile another writer took the lock as left behind, and writes for 50 ms.
        writeFileSync(`${store}.lock`, 'another writer');
        setTimeout(() => rmSync(`${store}.lock`), 50);
      }
      return adding(7)(old);
    });
    expect(changes).toBe(2);
    expect(written?.entries[0]?.observations).toEqual([7]);
    expect(kept(store)).toEqual({ observations: [7], others: [] });
  });
});
