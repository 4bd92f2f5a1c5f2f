// The calibration file as a file: where it is, which entries it accepts, and how often it is read.
// Every store here is a temporary file; nothing reads or writes the machine's own cache.
import {
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join, relative, win32 } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { STRATEGIES } from '../src/core/types.js';
import { NLSQStrategy, planNlsqFitSync, readCalibration, recordFitPeak } from '../src/index.js';
import { readStoreSync, storePath } from '../src/sources/calibrationFile.js';
import { GIB, makeTree } from './helpers.js';

const src = fileURLToPath(new URL('../src/', import.meta.url));

describe('the strategies a store keeps', () => {
  it('are NLSQStrategy, listed once below the policy and nowhere else', () => {
    expect(STRATEGIES).toEqual(Object.values(NLSQStrategy));
    const spelled = (readdirSync(src, { recursive: true }) as string[])
      .filter((file) => file.endsWith('.ts'))
      .filter((file) => readFileSync(join(src, file), 'utf8').includes("'hybrid_streaming'"))
      .map((file) => file.split(/[\\/]/).join('/'));
    expect(spelled.sort()).toEqual(['core/types.ts', 'policy/strategy.ts']);
  });
});

describe('where the store is', () => {
  const home = homedir();
  const linux = join(home, '.cache', 'nlsq-memory', 'calibration.json');

  it.each([
    [
      'an absolute XDG_CACHE_HOME',
      { XDG_CACHE_HOME: '/var/cache/me' },
      '/var/cache/me/nlsq-memory/calibration.json',
    ],
    ['no XDG_CACHE_HOME', {}, linux],
    ['an empty XDG_CACHE_HOME', { XDG_CACHE_HOME: '' }, linux],
    ['a relative XDG_CACHE_HOME', { XDG_CACHE_HOME: 'cache' }, linux],
    ['a dot', { XDG_CACHE_HOME: '.' }, linux],
  ])('with %s, is under it or under ~/.cache', (_, env, expected) => {
    expect(storePath(undefined, env, 'linux')).toBe(expected);
  });

  const windows = win32.join(home, 'AppData', 'Local', 'nlsq-memory', 'calibration.json');
  it.each([
    [
      'an absolute LOCALAPPDATA',
      { LOCALAPPDATA: 'C:\\Users\\me\\AppData\\Local' },
      'C:\\Users\\me\\AppData\\Local\\nlsq-memory\\calibration.json',
    ],
    ['no LOCALAPPDATA', {}, windows],
    ['an empty LOCALAPPDATA', { LOCALAPPDATA: '' }, windows],
    ['a relative LOCALAPPDATA', { LOCALAPPDATA: 'AppData\\Local' }, windows],
    ['a drive-relative LOCALAPPDATA', { LOCALAPPDATA: 'C:AppData' }, windows],
  ])('on Windows, with %s, is under it or under the profile', (_, env, expected) => {
    expect(storePath(undefined, env, 'win32')).toBe(expected);
  });

  it("is under the given env's home, as os.homedir() reads process.env's", () => {
    expect(storePath(undefined, { HOME: '/home/job' }, 'linux')).toBe(
      '/home/job/.cache/nlsq-memory/calibration.json',
    );
    expect(storePath(undefined, { HOME: 'relative' }, 'linux')).toBe(linux);
    expect(storePath(undefined, { USERPROFILE: 'C:\\Users\\job' }, 'win32')).toBe(
      'C:\\Users\\job\\AppData\\Local\\nlsq-memory\\calibration.json',
    );
  });

  it('is `store`, else NLSQ_MEMORY_CALIBRATION, whatever the cache', () => {
    const env = { NLSQ_MEMORY_CALIBRATION: '/data/c.json', XDG_CACHE_HOME: '' };
    expect(storePath('/mine.json', env, 'linux')).toBe('/mine.json');
    expect(storePath(undefined, env, 'linux')).toBe('/data/c.json');
  });
});

describe('the environment that names the store', () => {
  afterEach(() => vi.unstubAllEnvs());

  it("is the plan's for recording and reading too: a plan and a record given one env meet", async () => {
    const elsewhere = join(makeTree({}), 'process.json');
    vi.stubEnv('NLSQ_MEMORY_CALIBRATION', elsewhere);
    const env = { NLSQ_MEMORY_CALIBRATION: join(makeTree({}), 'calibration.json') };
    const options = { totalMemoryBytes: GIB, env, calibration: { key: 'm' } };
    const plan = planNlsqFitSync(23_000_000, 53, options);
    const peakBytes = 1e8 + 9 * plan.chunkJacobianBytes;
    const measurement = {
      peakBytes,
      baselineBytes: 1e8,
      source: 'sampled-rss',
      durationMs: 1,
    } as const;
    for (let run = 0; run < 3; run++) await recordFitPeak(plan, measurement, { key: 'm', env });
    expect(await readCalibration('m', { env })).toMatchObject({ observations: 3 });
    expect(planNlsqFitSync(23_000_000, 53, options).reason).toMatch(/learned from 3 runs/);
    expect(existsSync(elsewhere)).toBe(false);
    expect(existsSync(env.NLSQ_MEMORY_CALIBRATION)).toBe(true);
  });

  it.each([
    [{ key: 'm', env: 'x' }, TypeError, "Expected `env` to be an object, got 'x'"],
    [{ key: 'm', env: { A: 1 } }, TypeError, 'Expected `env.A` to be a string or undefined, got 1'],
  ])('is checked as every env option is: %o', async (options, type, message) => {
    const plan = planNlsqFitSync(10, 2, { totalMemoryBytes: GIB, env: {} });
    const measurement = {
      peakBytes: 2,
      baselineBytes: 1,
      source: 'sampled-rss',
      durationMs: 1,
    } as const;
    for (const call of [
      () => recordFitPeak(plan, measurement, options as never),
      () => readCalibration('m', { env: options.env } as never),
    ]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(type);
      expect((error as Error).message).toBe(message);
    }
  });
});

describe('a store read for plans', () => {
  /** A store file of `runs` observations of model `m`, and a reader that counts its reads. */
  function storeOf(runs: number[]) {
    const store = join(makeTree({}), 'calibration.json');
    const entries = [
      { key: 'm', strategy: 'out_of_core', bytesPerElement: 8, observations: runs, updatedAt: 1 },
    ];
    writeFileSync(store, JSON.stringify({ version: 1, entries }));
    const reads: string[] = [];
    const read = (path: string) => {
      reads.push(path);
      return readFileSync(path, 'utf8');
    };
    return { store, reads, read };
  }
  const runsIn = (store: ReturnType<typeof readStoreSync>) => store.entries[0]?.observations;

  it('is parsed once while the file stays the same', () => {
    const { store, reads, read } = storeOf([7, 7, 7]);
    const first = readStoreSync(store, read);
    expect(readStoreSync(store, read)).toBe(first);
    expect(readStoreSync(relative(process.cwd(), store), read)).toBe(first);
    expect(reads).toHaveLength(1);
  });

  it('is read again once another process renames a new file over it, or writes it in place', () => {
    const { store, reads, read } = storeOf([7, 7, 7]);
    expect(runsIn(readStoreSync(store, read))).toEqual([7, 7, 7]);
    const replaced = `${store}.other`;
    writeFileSync(replaced, readFileSync(store, 'utf8').replace('[7,7,7]', '[8,8,8]'));
    renameSync(replaced, store);
    expect(runsIn(readStoreSync(store, read))).toEqual([8, 8, 8]);
    // In place, as long as before, an hour later: the same inode, another time.
    writeFileSync(store, readFileSync(store, 'utf8').replace('[8,8,8]', '[9,9,9]'));
    const later = new Date(Date.now() + 3_600_000);
    utimesSync(store, later, later);
    expect(runsIn(readStoreSync(store, read))).toEqual([9, 9, 9]);
    expect(reads).toHaveLength(3);
    rmSync(store);
    expect(readStoreSync(store, read).entries).toEqual([]);
  });

  it("is read again after this process's own record, by the next plan", async () => {
    const { store } = storeOf([7, 7]);
    const options = { totalMemoryBytes: GIB, env: {}, calibration: { key: 'm', store } };
    const before = planNlsqFitSync(23_000_000, 53, options);
    expect(before.reason).toMatch(/2 of 3 runs recorded/);
    const peakBytes = 1e8 + before.residentBytes + 7 * before.chunkJacobianBytes;
    const measurement = {
      peakBytes,
      baselineBytes: 1e8,
      source: 'sampled-rss',
      durationMs: 1,
    } as const;
    await recordFitPeak(before, measurement, { key: 'm', store });
    expect(planNlsqFitSync(23_000_000, 53, options).reason).toMatch(/learned from 3 runs/);
  });
});
