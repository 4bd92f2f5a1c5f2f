import { describe, expect, it, vi } from 'vitest';
import {
  type DetectOptions,
  decideNlsqStrategy,
  detectMemory,
  detectMemorySync,
  detectTotalSystemMemory,
  estimatePeakMemoryGb,
  getAdaptiveMemoryThreshold,
  getAdaptiveMemoryThresholdSync,
  planNlsqFitSync,
  selectNlsqStrategy,
  selectNlsqStrategySync,
} from '../src/index.js';
import { GIB, makeTree, meminfo, probesWith } from './helpers.js';

const fsRoot = makeTree({ 'proc/meminfo': meminfo(8 * GIB, 6 * GIB) });

/** Every function that takes detection options, called with `options` as they are given. */
const takingOptions: [string, (options: unknown) => unknown][] = [
  ['detectMemory', (options) => detectMemory(options as DetectOptions)],
  ['detectMemorySync', (options) => detectMemorySync(options as DetectOptions)],
  ['detectTotalSystemMemory', (options) => detectTotalSystemMemory(options as DetectOptions)],
  ['getAdaptiveMemoryThreshold', (options) => getAdaptiveMemoryThreshold(options as never)],
  ['getAdaptiveMemoryThresholdSync', (options) => getAdaptiveMemoryThresholdSync(options as never)],
  ['selectNlsqStrategy', (options) => selectNlsqStrategy(10, 2, options as never)],
  ['selectNlsqStrategySync', (options) => selectNlsqStrategySync(10, 2, options as never)],
];

/** Calls `call` and returns what it throws or rejects with, else `undefined`. */
async function thrown(call: () => unknown): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  return undefined;
}

const badOptions: [string, Record<string, unknown>, ErrorConstructor, string][] = [
  ['probes 5', { probes: 5 }, TypeError, 'Expected `probes` to be an object, got 5'],
  ['probes []', { probes: [] }, TypeError, 'Expected `probes` to be an object, got []'],
  [
    'a probe that is not a function',
    { probes: { totalmem: 8 } },
    TypeError,
    'Expected `probes.totalmem` to be a function, got 8',
  ],
  [
    'an env value that is a number',
    { env: { SLURM_MEM_PER_NODE: 4096 } },
    TypeError,
    'Expected `env.SLURM_MEM_PER_NODE` to be a string or undefined, got 4096',
  ],
  ['env []', { env: [] }, TypeError, 'Expected `env` to be an object, got []'],
  ['env 5', { env: 5 }, TypeError, 'Expected `env` to be an object, got 5'],
  ["refresh 'yes'", { refresh: 'yes' }, TypeError, "Expected `refresh` to be a boolean, got 'yes'"],
  ['refresh 1', { refresh: 1 }, TypeError, 'Expected `refresh` to be a boolean, got 1'],
  ['fsRoot 5', { fsRoot: 5 }, TypeError, 'Expected `fsRoot` to be a non-empty string, got 5'],
  ["fsRoot ''", { fsRoot: '' }, RangeError, "Expected `fsRoot` to be a non-empty string, got ''"],
  [
    'timeoutMs past 2 ** 31 - 1',
    { timeoutMs: 2 ** 31 },
    RangeError,
    'Expected `timeoutMs` to be at most 2147483647 (2 ** 31 - 1), got 2147483648',
  ],
  [
    "timeoutMs '5'",
    { timeoutMs: '5' },
    TypeError,
    "Expected `timeoutMs` to be a finite number > 0, got '5'",
  ],
  ['ttlMs -1', { ttlMs: -1 }, RangeError, 'Expected `ttlMs` to be a finite number >= 0, got -1'],
  ['ttlMs NaN', { ttlMs: Number.NaN }, RangeError, 'Expected `ttlMs` to be a finite number >= 0'],
];

describe.each(takingOptions)('%s', (name, call) => {
  it.each(badOptions)(
    'rejects %s with an error naming it, before any I/O',
    async (_kind, bad, ErrorType, message) => {
      const probes = probesWith(8 * GIB, 8 * GIB);
      const error = await thrown(() => call({ fsRoot, env: {}, probes, ...bad }));
      expect(error).toBeInstanceOf(ErrorType);
      expect((error as Error).message).toContain(message);
      expect(probes.calls).toEqual({ load: 0, mem: 0 });
    },
  );

  it.skipIf(name.startsWith('detect'))(
    'checks the detection options even when a budget skips detection',
    async () => {
      const error = await thrown(() => call({ totalMemoryBytes: GIB, probes: 5 }));
      expect(error).toBeInstanceOf(TypeError);
    },
  );

  it('takes null as "not given", for the options and for every field', async () => {
    vi.stubEnv('NLSQ_MEMORY_FRACTION', undefined);
    const every = {
      fsRoot: null,
      env: null,
      timeoutMs: null,
      ttlMs: null,
      refresh: null,
      probes: null,
      memoryFraction: null,
      totalMemoryBytes: null,
      basis: null,
      bytesPerElement: null,
      jacobianOverhead: null,
    };
    // Each function takes its own options only: others are unknown keys, even when null.
    const own = name.startsWith('detect')
      ? ['fsRoot', 'env', 'timeoutMs', 'ttlMs', 'refresh', 'probes']
      : name.startsWith('getAdaptive')
        ? Object.keys(every).filter((key) => !['bytesPerElement', 'jacobianOverhead'].includes(key))
        : Object.keys(every);
    const nulls = Object.fromEntries(Object.entries(every).filter(([key]) => own.includes(key)));
    const probes = probesWith(4 * GIB, 4 * GIB);
    const given = { fsRoot, env: {}, probes, refresh: true };
    expect(await call({ ...nulls, ...given })).toEqual(await call(given));
    // The machine's own memory, through the default probes: null is no error.
    expect(await thrown(() => call(null))).toBeUndefined();
    expect(await thrown(() => call({ ...nulls }))).toBeUndefined();
    vi.unstubAllEnvs();
  });
});

describe('the options argument', () => {
  it.each([
    ['x', "'x'"],
    [5, '5'],
    [[], '[]'],
    [true, 'true'],
  ])('of the detecting functions rejects %j with a TypeError', async (value, shown) => {
    for (const detect of [detectMemory, detectTotalSystemMemory]) {
      await expect(detect(value as never)).rejects.toThrow(
        `Expected \`options\` to be an object, got ${shown}`,
      );
    }
    expect(() => detectMemorySync(value as never)).toThrow(TypeError);
  });

  it('accepts timeoutMs up to 2 ** 31 - 1, the longest setTimeout delay', async () => {
    const report = await detectMemory({
      fsRoot,
      env: {},
      probes: probesWith(2 * GIB),
      timeoutMs: 2 ** 31 - 1,
      refresh: true,
    });
    expect(report?.hostTotalBytes).toBe(2 * GIB);
  });

  it('treats null probes and null peak arguments as not given', () => {
    expect(
      detectMemorySync({
        fsRoot,
        env: {},
        probes: { totalmem: () => 3 * GIB, loadSystemInformation: null },
      }),
    ).toMatchObject({ hostTotalBytes: 3 * GIB });
    expect(estimatePeakMemoryGb(1e6, 10, null, null)).toBe(estimatePeakMemoryGb(1e6, 10));
    expect(decideNlsqStrategy(1e6, 10, 1, null)).toEqual(decideNlsqStrategy(1e6, 10, 1));
    expect(
      getAdaptiveMemoryThresholdSync({ totalMemoryBytes: 8 * GIB, memoryFraction: null })
        .thresholdGb,
    ).toBe(6);
  });
});

describe('an unknown option', () => {
  it.each([
    ['align', 'alignTo'],
    ['fraction', 'memoryFraction'],
    ['totalMemoryGb', 'totalMemoryBytes'],
    ['bytesperelement', 'bytesPerElement'],
    ['workers_count', 'workers'],
    ['gpu', undefined],
    ['xyz', undefined],
  ])('%s names the option meant: %s', (key, meant) => {
    const call = () => planNlsqFitSync(10, 2, { [key]: 1 } as never);
    const hint = meant === undefined ? '' : `: did you mean \`${meant}\`?`;
    expect(call).toThrow(new TypeError(`Unknown option \`${key}\`${hint}`));
  });
});

describe('an options object that is not a plain one', () => {
  it.each([
    [new Map([['totalMemoryBytes', GIB]]), 'Map'],
    [new (class Settings {})(), 'Settings'],
    [new Date(0), 'Date'],
  ])('is a TypeError naming its class, never read as no options: %s', (value, kind) => {
    expect(() => getAdaptiveMemoryThresholdSync(value as never)).toThrow(
      new TypeError(`Expected \`options\` to be a plain object, got an instance of ${kind}`),
    );
  });

  it('is read with its inherited options, as a spread of defaults would be', () => {
    const defaults = { totalMemoryBytes: 8 * GIB };
    const options = Object.assign(Object.create(defaults), { memoryFraction: 0.5 });
    expect(getAdaptiveMemoryThresholdSync(options).thresholdBytes).toBe(4 * GIB);
    const bare = Object.assign(Object.create(null), { totalMemoryBytes: 2 * GIB });
    expect(getAdaptiveMemoryThresholdSync(bare).thresholdBytes).toBe(1.5 * GIB);
  });

  it('is checked down to its inherited unknown keys', () => {
    const options = Object.create({ totalMemoryByte: GIB });
    expect(() => getAdaptiveMemoryThresholdSync(options)).toThrow(
      'Unknown option `totalMemoryByte`: did you mean `totalMemoryBytes`?',
    );
  });
});

describe('env', () => {
  it('is read as it was checked: an inherited value that is no string is a TypeError', () => {
    const env = Object.create({ NLSQ_MEMORY_FRACTION: 5 });
    expect(() => getAdaptiveMemoryThresholdSync({ totalMemoryBytes: GIB, env })).toThrow(
      new TypeError('Expected `env.NLSQ_MEMORY_FRACTION` to be a string or undefined, got 5'),
    );
  });

  it('takes inherited variables, as child_process does', () => {
    const env = Object.create({ NLSQ_MEMORY_FRACTION: '0.5' });
    const threshold = getAdaptiveMemoryThresholdSync({ totalMemoryBytes: 8 * GIB, env });
    expect(threshold.thresholdBytes).toBe(4 * GIB);
  });

  it('is read once, at the check: a getter cannot give one value to the check and another later', () => {
    let reads = 0;
    const env = Object.defineProperty({}, 'NLSQ_MEMORY_FRACTION', {
      enumerable: true,
      get: () => (++reads === 1 ? '0.5' : 7),
    });
    const threshold = getAdaptiveMemoryThresholdSync({ totalMemoryBytes: 8 * GIB, env });
    expect(threshold.thresholdBytes).toBe(4 * GIB);
    expect(reads).toBe(1);
  });
});

describe('probes', () => {
  it.each([
    [{ totalMem: () => GIB }, 'Unknown probe `probes.totalMem`: did you mean `probes.totalmem`?'],
    [{ heapLimit: () => GIB }, 'Unknown probe `probes.heapLimit`'],
    [
      { constrainedmemory: () => GIB },
      'Unknown probe `probes.constrainedmemory`: did you mean `probes.constrainedMemory`?',
    ],
  ])('with a misspelt name are a TypeError naming it: %o', (probes, message) => {
    expect(() => detectMemorySync({ fsRoot, env: {}, probes: probes as never })).toThrow(
      new TypeError(message),
    );
  });

  it('may carry data of their own: a test counter is no probe', () => {
    const probes = { ...probesWith(2 * GIB, 2 * GIB), counted: { totalmem: 0 } };
    expect(detectMemorySync({ fsRoot, env: {}, probes, refresh: true })?.hostTotalBytes).toBe(
      2 * GIB,
    );
  });
});

describe('a property added to every object', () => {
  it('is no option, no variable and no probe: only what was given counts', () => {
    Object.defineProperty(Object.prototype, 'clone', {
      value: () => {},
      enumerable: true,
      configurable: true,
      writable: true,
    });
    try {
      expect(getAdaptiveMemoryThresholdSync({ totalMemoryBytes: 8 * GIB }).thresholdBytes).toBe(
        6 * GIB,
      );
      expect(decideNlsqStrategy(1e6, 5, 8, {}).strategy).toBe('standard');
      const probes = probesWith(2 * GIB, 2 * GIB);
      expect(detectMemorySync({ fsRoot, env: { A: 'b' }, probes, refresh: true })).toMatchObject({
        hostTotalBytes: 2 * GIB,
      });
    } finally {
      delete (Object.prototype as { clone?: unknown }).clone;
    }
  });
});
