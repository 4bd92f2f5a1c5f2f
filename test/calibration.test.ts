// Learning the overhead from measured peaks: the file, the learned figure, and plans that use it.
// Every store here is a temporary file; nothing reads or writes the machine's own cache.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  type FitPlan,
  type PeakMeasurement,
  planNlsqFitSync,
  readCalibration,
  recordFitPeak,
} from '../src/index.js';
import { captureWarnings, GIB, makeTree } from './helpers.js';

const dist = pathToFileURL(fileURLToPath(new URL('../dist/index.js', import.meta.url))).href;

/** A fresh calibration file, not yet written. */
const freshStore = () => join(makeTree({}), 'calibration.json');

/** A measurement of a fit that used `overhead` × the plan's Jacobian over its baseline and what stays resident. */
function measured(plan: FitPlan, overhead: number): PeakMeasurement {
  const baselineBytes = 100_000_000;
  return {
    peakBytes: baselineBytes + plan.residentBytes + Math.round(overhead * plan.chunkJacobianBytes),
    baselineBytes,
    source: 'sampled-rss',
    durationMs: 1000,
  };
}

/** 23,000,000 × 53 in 1 GiB, aligned to 23 angles: out of core, the chunk set by the budget. */
const planIn = (store: string, key = 'xpcs-laminar') =>
  planNlsqFitSync(23_000_000, 53, {
    totalMemoryBytes: GIB,
    env: {},
    alignTo: 23,
    calibration: { key, store },
  });

describe('a learned overhead', () => {
  it('shrinks the next plan by 6.5 / 9.9 once three runs showed an overhead of 9', async () => {
    const store = freshStore();
    const first = planIn(store);
    expect(first.decision.strategy).toBe('out_of_core');
    expect(first.reason).toMatch(/\(overhead 6\.5: 0 of 3 runs recorded to learn it\)\.$/);
    await recordFitPeak(first, measured(first, 9), { key: 'xpcs-laminar', store });
    const second = await recordFitPeak(first, measured(first, 9), { key: 'xpcs-laminar', store });
    expect(second).toEqual({ key: 'xpcs-laminar', observations: 2, overhead: null });
    expect(planIn(store).chunkPoints).toBe(first.chunkPoints);
    expect(planIn(store).reason).toMatch(/\(overhead 6\.5: 2 of 3 runs recorded to learn it\)\.$/);
    const third = await recordFitPeak(first, measured(first, 9), { key: 'xpcs-laminar', store });
    expect(third.overhead).toBeCloseTo(9.9, 9);
    const learned = planIn(store);
    const expected = Math.floor((first.chunkPoints * 6.5) / 9.9);
    expect(Math.abs(learned.chunkPoints - expected)).toBeLessThanOrEqual(23);
    expect(learned.chunkPoints % 23).toBe(0);
    expect(learned.reason).toMatch(
      /Jacobian × 9\.9 fits .*\(overhead 9\.90 learned from 3 runs\)\.$/,
    );
    // The decision uses it too: the same points fit in memory as the chunk allows.
    expect(learned.decision.peakMemoryGb).toBeCloseTo((23_000_000 * 53 * 8 * 9.9) / GIB, 9);
    expect(learned.chunkPoints).toBeLessThanOrEqual(learned.decision.maxInMemoryPoints);
  });

  it('learns in both directions: a lower overhead gives larger chunks', async () => {
    const store = freshStore();
    const first = planIn(store);
    for (let run = 0; run < 3; run++) {
      await recordFitPeak(first, measured(first, 3), { key: 'xpcs-laminar', store });
    }
    expect(planIn(store).chunkPoints).toBeGreaterThan(first.chunkPoints);
  });

  it('is the 95th percentile × 1.1, at least 1, of the last 50 observations', async () => {
    const store = freshStore();
    const first = planIn(store);
    const key = 'many';
    // 60 runs: 10 at 100 (dropped: only the last 50 are kept), then 1 to 50.
    for (const overhead of [
      ...Array<number>(10).fill(100),
      ...Array.from({ length: 50 }, (_, i) => i + 1),
    ]) {
      await recordFitPeak(first, measured(first, overhead), { key, store });
    }
    const entry = await readCalibration(key, { store });
    expect(entry.observations).toBe(50);
    // Nearest rank: the 48th of 50 is 48.
    expect(entry.overhead).toBeCloseTo(48 * 1.1, 3);
    const tiny = 'tiny';
    for (let run = 0; run < 3; run++) {
      await recordFitPeak(first, measured(first, 0.2), { key: tiny, store });
    }
    expect((await readCalibration(tiny, { store })).overhead).toBe(1);
  });

  it('keeps models, strategies and element sizes apart', async () => {
    const store = freshStore();
    const first = planIn(store);
    for (let run = 0; run < 3; run++) {
      await recordFitPeak(first, measured(first, 9), { key: 'a', store });
    }
    expect((await readCalibration('b', { store })).observations).toBe(0);
    expect(
      (await readCalibration('a', { store, strategy: 'standard', bytesPerElement: 8 }))
        .observations,
    ).toBe(0);
    expect((await readCalibration('a', { store })).observations).toBe(3);
    expect(planIn(store, 'b').chunkPoints).toBe(first.chunkPoints);
  });
});

describe('the calibration file', () => {
  it('keeps every observation of eight processes that record at once, and stays valid', async () => {
    const store = freshStore();
    const script = `
      const { planNlsqFitSync, recordFitPeak } = await import(${JSON.stringify(dist)});
      const plan = planNlsqFitSync(23_000_000, 53, { totalMemoryBytes: 2 ** 30, env: {} });
      const m = { peakBytes: 1e8 + 7 * plan.chunkJacobianBytes, baselineBytes: 1e8, source: 'sampled-rss', durationMs: 1 };
      await recordFitPeak(plan, m, { key: 'shared', store: ${JSON.stringify(store)} });
    `;
    const run = promisify(execFile);
    await Promise.all(
      Array.from({ length: 8 }, () => run(process.execPath, ['--input-type=module', '-e', script])),
    );
    const data = JSON.parse(readFileSync(store, 'utf8'));
    expect(data.entries).toHaveLength(1);
    expect(data.entries[0].observations).toHaveLength(8);
    expect(await readCalibration('shared', { store })).toMatchObject({ observations: 8 });
    expect(readdirSync(join(store, '..')).filter((name) => name !== 'calibration.json')).toEqual(
      [],
    );
  });

  it.each([
    ['garbage', 'not json {'],
    ['a foreign file', '{"version": 2, "entries": []}'],
    ['a bad entry', '{"version": 1, "entries": [{"key": "k", "observations": ["x"]}]}'],
  ])('sets %s aside with a warning, never a throw, and learning starts again', async (_, text) => {
    const warnings = captureWarnings();
    const store = freshStore();
    writeFileSync(store, text);
    expect(await readCalibration('k', { store })).toEqual({
      key: 'k',
      observations: 0,
      overhead: null,
    });
    expect(warnings.map((warning) => warning.code)).toEqual(['NLSQ_MEMORY_CALIBRATION_INVALID']);
    const aside = readdirSync(join(store, '..')).filter((name) => name.includes('.invalid-'));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(store, '..', aside[0] ?? ''), 'utf8')).toBe(text);
    const plan = planIn(store, 'k');
    expect((await recordFitPeak(plan, measured(plan, 7), { key: 'k', store })).observations).toBe(
      1,
    );
  });

  // A file this process may read but not rename: the kernel's own, on Linux.
  it.skipIf(process.platform !== 'linux')(
    'says so, and claims no rename, when it cannot be set aside',
    async () => {
      const store = '/proc/self/status';
      const message =
        /^\/proc\/self\/status is no calibration file of this library: it could not be set aside \(E[A-Z]+\), and is read as empty; learning starts again$/;
      const asynchronous = captureWarnings();
      expect(await readCalibration('k', { store })).toMatchObject({ observations: 0 });
      expect(asynchronous.map((warning) => warning.message)).toEqual([
        expect.stringMatching(message),
      ]);
      const synchronous = captureWarnings();
      expect(planIn(store).reason).toMatch(/0 of 3 runs/);
      expect(synchronous.map((warning) => warning.message)).toEqual([
        expect.stringMatching(message),
      ]);
    },
  );

  it('is set aside by a plan that reads it synchronously too', () => {
    const warnings = captureWarnings();
    const store = freshStore();
    writeFileSync(store, '[]');
    expect(planIn(store).reason).toMatch(/0 of 3 runs/);
    expect(warnings.map((warning) => warning.code)).toEqual(['NLSQ_MEMORY_CALIBRATION_INVALID']);
    expect(existsSync(store)).toBe(false);
  });
});

describe('recording', () => {
  it('records nothing for a plan without a Jacobian, and says so', async () => {
    const warnings = captureWarnings();
    const store = freshStore();
    const plan = planNlsqFitSync(1000, 0, { totalMemoryBytes: GIB, env: {} });
    const entry = await recordFitPeak(plan, measured(planIn(store), 9), { key: 'k', store });
    expect(entry).toEqual({ key: 'k', observations: 0, overhead: null });
    expect(warnings.map((warning) => warning.code)).toEqual(['NLSQ_MEMORY_CALIBRATION_SKIPPED']);
    expect(existsSync(store)).toBe(false);
  });

  it.each([
    [{ key: '' }, RangeError, /`key` to be a non-empty string, got ''/],
    [{}, TypeError, /`key` to be a non-empty string, got undefined/],
    [{ key: 'k', store: 5 }, TypeError, /`store` to be a non-empty string, got 5/],
    [{ key: 'k', stor: 'x' }, TypeError, /Unknown option `stor`: did you mean `store`\?/],
  ])('rejects the options %o', async (options, type, message) => {
    const plan = planIn(freshStore());
    const error = await recordFitPeak(plan, measured(plan, 2), options as never).catch((e) => e);
    expect(error).toBeInstanceOf(type);
    expect(error.message).toMatch(message);
  });

  it.each([
    [{ peakBytes: -1 }, RangeError, /`measurement.peakBytes` to be a non-negative integer, got -1/],
    [{ peakBytes: Number.NaN }, RangeError, /`measurement.peakBytes`/],
    [{ baselineBytes: 1.5 }, RangeError, /`measurement.baselineBytes`/],
    [{ source: 'guess' }, RangeError, /`measurement.source`/],
    [{ durationMs: -3 }, RangeError, /`measurement.durationMs`/],
  ])('rejects the measurement with %o', async (change, type, message) => {
    const plan = planIn(freshStore());
    const bad = { ...measured(plan, 2), ...change };
    const error = await recordFitPeak(plan, bad as PeakMeasurement, {
      key: 'k',
      store: freshStore(),
    }).catch((e) => e);
    expect(error).toBeInstanceOf(type);
    expect(error.message).toMatch(message);
  });

  it.each([
    [{ key: '' }, RangeError, "Expected `calibration.key` to be a non-empty string, got ''"],
    [{ key: 5 }, TypeError, 'Expected `calibration.key` to be a non-empty string, got 5'],
    [{}, TypeError, 'Expected `calibration.key` to be a non-empty string, got undefined'],
    [
      { key: 'k', store: '' },
      RangeError,
      "Expected `calibration.store` to be a non-empty string, got ''",
    ],
    ['k', TypeError, "Expected `calibration` to be an object, got 'k'"],
    [
      { key: 'k', kee: 1 },
      TypeError,
      'Unknown option `calibration.kee`: did you mean `calibration.key`?',
    ],
  ])(
    'rejects the plan option calibration: %o, naming the option inside it',
    (calibration, type, message) => {
      const plan = () =>
        planNlsqFitSync(10, 2, {
          totalMemoryBytes: GIB,
          env: {},
          calibration: calibration as never,
        });
      expect(plan).toThrow(type);
      expect(plan).toThrow(message);
    },
  );
});

describe('an overhead past what an option may be', () => {
  it('is recorded as 1,000,000 at most, so that the file stays one the library reads', async () => {
    const store = freshStore();
    const plan = planIn(store, 'tiny');
    const huge = { ...measured(plan, 1), peakBytes: Number.MAX_SAFE_INTEGER };
    for (let run = 0; run < 3; run++) await recordFitPeak(plan, huge, { key: 'tiny', store });
    const entry = await readCalibration('tiny', { store });
    expect(entry.observations).toBe(3);
    expect(entry.overhead).toBeCloseTo(1.1e6, 3);
    // What the fits showed, the plan says: nothing fits under it, in figures a person can read.
    expect(() => planIn(store, 'tiny')).toThrow(/× 1100000 exceeds the budget/);
  });

  it('in a file written by hand makes it no calibration file: set aside, never a plan that fails', () => {
    const warnings = captureWarnings();
    const store = freshStore();
    const entry = { key: 'k', strategy: 'out_of_core', bytesPerElement: 8, updatedAt: 0 };
    const observations = [1e300, 1e300, 1e300];
    writeFileSync(store, JSON.stringify({ version: 1, entries: [{ ...entry, observations }] }));
    expect(planIn(store, 'k').reason).toMatch(/0 of 3 runs/);
    expect(warnings.map((warning) => warning.code)).toEqual(['NLSQ_MEMORY_CALIBRATION_INVALID']);
  });
});
