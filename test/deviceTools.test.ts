// Fake nvidia-smi and rocm-smi shell scripts, first (and alone) on the PATH given through `env`:
// nothing here depends on the GPUs, drivers or tools of the machine that runs the tests. The
// scripts need a POSIX shell; the parsers behind them are tested on plain strings everywhere.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { track } from '../src/core/children.js';
import { type DeviceProbes, detectDeviceMemory } from '../src/index.js';
import { findExecutable, firstInOrder, runTool } from '../src/sources/gpu/tools.js';
import {
  captureWarnings,
  graphicsProbes,
  isRunning,
  MIB,
  makeBin,
  runsIn,
  writeScript,
} from './helpers.js';

const posix = it.skipIf(process.platform === 'win32');

const H100 = 'NVIDIA H100 80GB HBM3';
const UUID0 = 'GPU-5d3c0f6a-7b2e-4c1d-9a8f-0123456789ab';
const UUID1 = 'GPU-5d3c77aa-0000-4c1d-9a8f-0123456789ab';
const DRIVER_ERROR =
  "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.";
const ROCM_JSON = JSON.stringify({
  card0: { 'VRAM Total Memory (B)': '68702699520', 'VRAM Total Used Memory (B)': '10485760' },
});

/** A script that prints `lines`, appending one line to `counter` (if given) per run. */
function printing(lines: string[], counter?: string): string {
  const count = counter === undefined ? '' : `echo run >> '${counter}'\n`;
  return `${count}cat <<'EOF'\n${lines.join('\n')}\nEOF`;
}

/** A script that starts a child that sleeps, records both pids, and waits. */
function hanging(pidFile: string): string {
  return `sleep 30 &\necho "$$ $!" > '${pidFile}'\nwait`;
}

async function pidsIn(file: string): Promise<number[]> {
  await vi.waitFor(() => expect(readFileSync(file, 'utf8')).toMatch(/^\d+ \d+\n/), {
    timeout: 5000,
    interval: 10,
  });
  return readFileSync(file, 'utf8').trim().split(' ').map(Number);
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('nvidia-smi', () => {
  posix('reports one GPU, asked with the documented query, memory in MiB', async () => {
    const bin = makeBin();
    writeScript(
      join(bin, 'nvidia-smi'),
      `echo "$@" > '${bin}/args'\necho "0, ${UUID0}, ${H100}, 81559, 80435, Disabled"`,
    );
    const probes = graphicsProbes();
    expect(await detectDeviceMemory({ env: { PATH: bin }, probes })).toEqual([
      {
        index: 0,
        uuid: UUID0,
        name: H100,
        vendor: 'nvidia',
        totalBytes: 81559 * MIB,
        freeBytes: 80435 * MIB,
        unifiedMemory: false,
        source: 'nvidia-smi',
      },
    ]);
    expect(readFileSync(join(bin, 'args'), 'utf8')).toBe(
      '--query-gpu=index,uuid,name,memory.total,memory.free,mig.mode.current --format=csv,noheader,nounits\n',
    );
    expect(probes.calls.graphics).toBe(0);
  });

  posix('reports eight GPUs', async () => {
    const lines = Array.from(
      { length: 8 },
      (_, i) =>
        `${i}, GPU-${i}0000000-0000-0000-0000-000000000000, ${H100}, 81559, ${80000 + i}, Disabled`,
    );
    const devices = await detectDeviceMemory({
      env: { PATH: makeBin({ 'nvidia-smi': printing(lines) }) },
      probes: graphicsProbes(),
    });
    expect(devices.map(({ index, freeBytes }) => [index, freeBytes])).toEqual(
      lines.map((_, i) => [i, (80000 + i) * MIB]),
    );
  });

  posix('gives null, never NaN, for [N/A] and unreadable fields', async () => {
    const bin = makeBin({
      'nvidia-smi': printing([
        `0, ${UUID0}, NVIDIA A100-SXM4-40GB, 40960, [N/A], Disabled`,
        `1, [N/A], NVIDIA A100-SXM4-40GB, [Unknown Error], [N/A], Disabled`,
      ]),
    });
    const devices = await detectDeviceMemory({ env: { PATH: bin }, probes: graphicsProbes() });
    // Device 1's total is unreadable: it is left out, and device 0 keeps its number.
    expect(devices).toEqual([
      {
        index: 0,
        uuid: UUID0,
        name: 'NVIDIA A100-SXM4-40GB',
        vendor: 'nvidia',
        totalBytes: 40960 * MIB,
        freeBytes: null,
        unifiedMemory: false,
        source: 'nvidia-smi',
      },
    ]);
  });

  posix('lists only the devices CUDA_VISIBLE_DEVICES shows, from one run of the tool', async () => {
    const bin = makeBin();
    const counter = join(bin, 'runs');
    writeScript(
      join(bin, 'nvidia-smi'),
      printing(
        [
          `0, ${UUID0}, ${H100}, 81559, 100, Disabled`,
          `1, ${UUID1}, ${H100}, 81559, 200, Disabled`,
        ],
        counter,
      ),
    );
    const probes = graphicsProbes();
    const uuids = async (visible: string | undefined) =>
      (
        await detectDeviceMemory({
          env: { PATH: bin, CUDA_VISIBLE_DEVICES: visible },
          probes,
          ttlMs: 60_000,
        })
      ).map(({ index, uuid }) => `${index}:${uuid?.slice(0, 12)}`);
    expect(await uuids(undefined)).toEqual(['0:GPU-5d3c0f6a', '1:GPU-5d3c77aa']);
    expect(await uuids('1')).toEqual(['0:GPU-5d3c77aa']);
    expect(await uuids('1,0')).toEqual(['0:GPU-5d3c77aa', '1:GPU-5d3c0f6a']);
    expect(await uuids(UUID0)).toEqual(['0:GPU-5d3c0f6a']);
    expect(await uuids('GPU-5d3c7')).toEqual(['0:GPU-5d3c77aa']);
    const warnings = captureWarnings();
    expect(await uuids('GPU-5d3c')).toEqual([]); // a prefix of both: not unique
    expect(warnings.map(({ message }) => message)).toEqual([
      'CUDA_VISIBLE_DEVICES names GPU-5d3c, a prefix of more than one GPU nvidia-smi lists: it and the entries after it are hidden, as the runtime hides them',
    ]);
    expect(await uuids('')).toEqual([]);
    expect(await uuids('-1')).toEqual([]);
    expect(await uuids('0,7,1')).toEqual(['0:GPU-5d3c0f6a']);
    expect(runsIn(counter)).toBe(1);
  });

  posix('moves on after exit 9, the driver error, to rocm-smi, then to graphics()', async () => {
    const failing = `echo "${DRIVER_ERROR}"\nexit 9`;
    const withRocm = makeBin({ 'nvidia-smi': failing, 'rocm-smi': printing([ROCM_JSON]) });
    expect(
      await detectDeviceMemory({ env: { PATH: withRocm }, probes: graphicsProbes() }),
    ).toMatchObject([{ index: 0, name: 'card0', vendor: 'amd', source: 'rocm-smi' }]);

    const probes = graphicsProbes({
      controllers: [{ vendor: 'NVIDIA Corporation', model: 'Tesla T4', vram: 15360 }],
    });
    expect(
      await detectDeviceMemory({ env: { PATH: makeBin({ 'nvidia-smi': failing }) }, probes }),
    ).toEqual([
      {
        index: 0,
        uuid: null,
        name: 'Tesla T4',
        vendor: 'nvidia',
        totalBytes: 15360 * MIB,
        freeBytes: null,
        unifiedMemory: false,
        source: 'systeminformation',
      },
    ]);
    expect(probes.calls.graphics).toBe(1);
  });

  posix('moves on from garbage output, and from a tool killed by a signal', async () => {
    const bin = makeBin({
      'nvidia-smi': printing(['Segmentation fault (core dumped)', '\u0000\u00ff garbage']),
      'rocm-smi': 'kill -SEGV $$',
    });
    const probes = graphicsProbes(new Error('graphics() failed'));
    expect(await detectDeviceMemory({ env: { PATH: bin }, probes })).toEqual([]);
    expect(probes.calls.graphics).toBe(1);
  });

  posix('moves on from a tool that fails with a message on stderr', async () => {
    const bin = makeBin({
      'nvidia-smi': `echo "${DRIVER_ERROR}" >&2\nexit 9`,
      'rocm-smi': 'echo "ERROR: No AMD GPUs specified" >&2\nexit 2',
    });
    const probes = graphicsProbes({
      controllers: [{ vendor: 'NVIDIA', model: 'T4', vram: 15360 }],
    });
    const devices = await detectDeviceMemory({ env: { PATH: bin }, probes });
    expect(devices.map((device) => device.source)).toEqual(['systeminformation']);
  });

  posix('kills a tool that floods its output, and moves on', async () => {
    const bin = makeBin({
      'nvidia-smi': 'yes 0123456789abcdef',
      'rocm-smi': printing([ROCM_JSON]),
    });
    const devices = await detectDeviceMemory({ env: { PATH: bin }, probes: graphicsProbes() });
    expect(devices.map((device) => device.source)).toEqual(['rocm-smi']);
  });
});

describe('rocm-smi', () => {
  posix('reports AMD GPUs in bytes, free memory as total minus used', async () => {
    const bin = makeBin();
    writeScript(join(bin, 'rocm-smi'), `echo "$@" > '${bin}/args'\n${printing([ROCM_JSON])}`);
    const probes = graphicsProbes();
    expect(await detectDeviceMemory({ env: { PATH: bin }, probes })).toEqual([
      {
        index: 0,
        uuid: null,
        name: 'card0',
        vendor: 'amd',
        totalBytes: 68702699520,
        freeBytes: 68702699520 - 10485760,
        unifiedMemory: false,
        source: 'rocm-smi',
      },
    ]);
    expect(readFileSync(join(bin, 'args'), 'utf8')).toBe(
      '--showmeminfo vram --showuniqueid --json\n',
    );
    expect(probes.calls.graphics).toBe(0);
  });

  posix('lists only the devices HIP_VISIBLE_DEVICES and ROCR_VISIBLE_DEVICES show', async () => {
    const cards = JSON.stringify({
      card0: { 'VRAM Total Memory (B)': '1073741824' },
      card1: { 'VRAM Total Memory (B)': '2147483648' },
    });
    const env = { PATH: makeBin({ 'rocm-smi': printing([cards]) }) };
    const probes = graphicsProbes();
    const names = async (extra: Record<string, string>) =>
      (await detectDeviceMemory({ env: { ...env, ...extra }, probes })).map((d) => d.name);
    expect(await names({})).toEqual(['card0', 'card1']);
    expect(await names({ HIP_VISIBLE_DEVICES: '1' })).toEqual(['card1']);
    expect(await names({ ROCR_VISIBLE_DEVICES: '1,0', HIP_VISIBLE_DEVICES: '1' })).toEqual([
      'card0',
    ]);
    expect(await names({ ROCR_VISIBLE_DEVICES: '' })).toEqual([]);
    expect(await names({ CUDA_VISIBLE_DEVICES: '' })).toEqual(['card0', 'card1']);
  });
});

describe('no tool at all', () => {
  posix('asks graphics() when PATH holds neither tool', async () => {
    const probes = graphicsProbes({
      controllers: [
        {
          vendor: 'Advanced Micro Devices, Inc. [AMD/ATI]',
          model: 'Radeon Pro W7900',
          vram: 49152,
        },
      ],
    });
    expect(await detectDeviceMemory({ env: { PATH: makeBin() }, probes })).toMatchObject([
      { index: 0, vendor: 'amd', totalBytes: 48 * 1024 * MIB, source: 'systeminformation' },
    ]);
  });

  posix(
    'asks graphics() only when askSystemInformation allows it, each way cached apart',
    async () => {
      let asked = 0;
      const amd = { vendor: 'AMD', model: 'Radeon Pro W7900', vram: 49152 };
      const probes: DeviceProbes = {
        loadSystemInformation: async () => {
          asked += 1;
          return { graphics: async () => ({ controllers: [amd] }) };
        },
      };
      const env = { PATH: makeBin() };
      expect(await detectDeviceMemory({ env, probes, askSystemInformation: false })).toEqual([]);
      expect(asked).toBe(0);
      expect(await detectDeviceMemory({ env, probes })).toHaveLength(1);
      expect(asked).toBe(1);
      expect(await detectDeviceMemory({ env, probes, askSystemInformation: false })).toEqual([]);
      expect(asked).toBe(1);
    },
  );

  it('resolves [] with an empty PATH, no PATH, and a graphics() that finds nothing or fails', async () => {
    expect(await detectDeviceMemory({ env: { PATH: '' }, probes: graphicsProbes() })).toEqual([]);
    expect(
      await detectDeviceMemory({ env: {}, probes: graphicsProbes(new Error('lspci')) }),
    ).toEqual([]);
    const failingLoad: DeviceProbes = {
      loadSystemInformation: () => Promise.reject(new Error('Cannot find module')),
    };
    expect(await detectDeviceMemory({ env: {}, probes: failingLoad })).toEqual([]);
  });

  posix(
    'skips files that are not executable, folders, and relative or empty PATH entries',
    async () => {
      const bin = makeBin({ 'rocm-smi': printing([ROCM_JSON]) });
      writeFileSync(
        join(bin, 'nvidia-smi'),
        `#!/bin/sh\necho "0, ${UUID0}, ${H100}, 1, 1, Disabled"\n`,
      );
      const folders = makeBin();
      mkdirSync(join(folders, 'nvidia-smi'));
      // A relative entry would be searched from the working directory: it is never searched.
      const scratch = fileURLToPath(new URL('./.tmp/', import.meta.url));
      mkdirSync(scratch, { recursive: true });
      const here = mkdtempSync(join(scratch, 'bin-'));
      writeScript(join(here, 'nvidia-smi'), printing([`0, ${UUID0}, ${H100}, 1, 1, Disabled`]));
      const devices = await detectDeviceMemory({
        env: { PATH: ['', relative(process.cwd(), here), folders, bin].join(':') },
        probes: graphicsProbes(),
      });
      rmSync(here, { recursive: true, force: true });
      expect(devices.map((device) => device.source)).toEqual(['rocm-smi']);
    },
  );
});

describe('a tool that hangs', () => {
  posix('is killed with its children at the time budget, and graphics() is not asked', async () => {
    const bin = makeBin();
    const pidFile = join(bin, 'pids');
    writeScript(join(bin, 'nvidia-smi'), hanging(pidFile));
    const probes = graphicsProbes({
      controllers: [{ vendor: 'NVIDIA', model: 'T4', vram: 15360 }],
    });
    const warnings = captureWarnings();
    const started = performance.now();
    const pending = detectDeviceMemory({ env: { PATH: bin }, probes, timeoutMs: 500 });
    const pids = await pidsIn(pidFile);
    for (const pid of pids) expect(isRunning(pid)).toBe(true);
    expect(await pending).toEqual([]);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(490);
    expect(elapsed).toBeLessThan(600);
    expect(probes.calls.graphics).toBe(0);
    // "No GPU" would be a guess: the warning says the list is unknown, and why.
    expect(warnings.map((warning) => warning.code)).toEqual(['NLSQ_MEMORY_DEVICE_TIMEOUT']);
    expect(warnings[0]?.message).toBe(
      'nvidia-smi gave no answer within its time budget, 500 ms: no GPU is listed, though one may be there; a GPU without the persistence daemon can take 30 s to answer',
    );
    await vi.waitFor(() => {
      for (const pid of pids) expect(isRunning(pid), `process ${pid}`).toBe(false);
    });
  });

  posix("gives rocm-smi's answer when nvidia-smi hangs", async () => {
    const bin = makeBin({ 'rocm-smi': printing([ROCM_JSON]) });
    writeScript(join(bin, 'nvidia-smi'), hanging(join(bin, 'pids')));
    const probes = graphicsProbes();
    const started = performance.now();
    const devices = await detectDeviceMemory({ env: { PATH: bin }, probes, timeoutMs: 400 });
    expect(performance.now() - started).toBeLessThan(500);
    expect(devices.map((device) => device.source)).toEqual(['rocm-smi']);
    expect(probes.calls.graphics).toBe(0);
  });

  posix('is killed as soon as another tool answers first', async () => {
    const bin = makeBin();
    const pidFile = join(bin, 'pids');
    writeScript(join(bin, 'rocm-smi'), hanging(pidFile));
    // nvidia-smi answers once rocm-smi has started its child.
    writeScript(
      join(bin, 'nvidia-smi'),
      `while [ ! -s '${pidFile}' ]; do sleep 0.02; done\necho "0, ${UUID0}, ${H100}, 81559, 1, Disabled"`,
    );
    const started = performance.now();
    const devices = await detectDeviceMemory({
      env: { PATH: bin },
      probes: graphicsProbes(),
      timeoutMs: 10_000,
    });
    expect(performance.now() - started).toBeLessThan(5000);
    expect(devices.map((device) => device.source)).toEqual(['nvidia-smi']);
    const pids = await pidsIn(pidFile);
    await vi.waitFor(() => {
      for (const pid of pids) expect(isRunning(pid), `process ${pid}`).toBe(false);
    });
  });
});

describe('graphics()', () => {
  it('gets what is left of the time budget, and an answer past it is not awaited', async () => {
    const probes: DeviceProbes = {
      loadSystemInformation: async () => ({ graphics: () => new Promise(() => {}) }),
    };
    const started = performance.now();
    expect(await detectDeviceMemory({ env: {}, probes, timeoutMs: 200 })).toEqual([]);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('runTool', () => {
  const signal = new AbortController().signal;

  it('spawns nothing for a signal that has already aborted', async () => {
    expect(await runTool(process.execPath, ['-e', ''], {}, AbortSignal.abort())).toMatchObject({
      status: 'cancelled',
    });
  });

  it('resolves, never rejects, when the tool cannot be started', async () => {
    expect(await runTool(process.execPath, ['nul\u0000byte'], {}, signal)).toMatchObject({
      status: 'failed',
    });
    expect(await runTool(join(makeBin(), 'missing'), [], {}, signal)).toMatchObject({
      status: 'failed',
      detail: expect.stringMatching(/ENOENT/),
    });
  });

  it('gives the output of a tool that exits 0', async () => {
    expect(
      await runTool(
        process.execPath,
        ['-e', 'console.log(process.env.GREETING)'],
        { GREETING: 'hi' },
        signal,
      ),
    ).toEqual({ status: 'ok', stdout: 'hi\n' });
  });
});

describe('the cache', () => {
  posix('runs the tool once for concurrent calls', async () => {
    const bin = makeBin();
    const counter = join(bin, 'runs');
    writeScript(
      join(bin, 'nvidia-smi'),
      `echo run >> '${counter}'\nsleep 0.2\necho "0, ${UUID0}, ${H100}, 81559, 80435, Disabled"`,
    );
    const probes = graphicsProbes();
    const results = await Promise.all(
      Array.from({ length: 25 }, () => detectDeviceMemory({ env: { PATH: bin }, probes })),
    );
    expect(runsIn(counter)).toBe(1);
    for (const devices of results) expect(devices).toEqual(results[0]);
    expect(results[0]).toHaveLength(1);
  });

  posix('keeps the devices, and reads free memory again once per ttlMs', async () => {
    vi.useFakeTimers({ toFake: ['hrtime'] });
    const bin = makeBin();
    const counter = join(bin, 'runs');
    const free = join(bin, 'free');
    const tool = join(bin, 'nvidia-smi');
    const answering = `echo run >> '${counter}'\necho "0, ${UUID0}, ${H100}, 81559, $(cat '${free}'), Disabled"`;
    writeScript(tool, answering);
    writeFileSync(free, '80000');
    const probes = graphicsProbes();
    const detect = async (options: { ttlMs?: number; refresh?: boolean } = {}) => {
      const [device] = await detectDeviceMemory({ env: { PATH: bin }, probes, ...options });
      return [runsIn(counter), device?.freeBytes === null ? null : (device?.freeBytes ?? 0) / MIB];
    };

    expect(await detect()).toEqual([1, 80000]);
    writeFileSync(free, '70000');
    vi.advanceTimersByTime(999);
    expect(await detect()).toEqual([1, 80000]);
    vi.advanceTimersByTime(1);
    expect(await detect()).toEqual([2, 70000]);
    writeFileSync(free, '60000');
    expect(await detect({ refresh: true })).toEqual([3, 60000]);
    expect(await detect({ ttlMs: 0 })).toEqual([4, 60000]);

    // A failed run keeps the devices, with free memory unknown, and is retried, backing off.
    writeScript(tool, `echo run >> '${counter}'\necho "${DRIVER_ERROR}"\nexit 9`);
    vi.advanceTimersByTime(1000);
    expect(await detect()).toEqual([5, null]);
    vi.advanceTimersByTime(999);
    expect(await detect()).toEqual([5, null]);
    vi.advanceTimersByTime(1);
    expect(await detect()).toEqual([6, null]);
    vi.advanceTimersByTime(1999);
    expect(await detect()).toEqual([6, null]);
    vi.advanceTimersByTime(1);
    expect(await detect()).toEqual([7, null]);

    writeScript(tool, answering);
    vi.advanceTimersByTime(4000);
    expect(await detect()).toEqual([8, 60000]);
    vi.advanceTimersByTime(1000);
    expect(await detect()).toEqual([9, 60000]);
  });

  posix('retries a run that found nothing, and keeps an answer of no GPU', async () => {
    vi.useFakeTimers({ toFake: ['hrtime'] });
    const bin = makeBin();
    const failing = graphicsProbes(new Error('lspci: not found'));
    expect(await detectDeviceMemory({ env: { PATH: bin }, probes: failing })).toEqual([]);
    expect(await detectDeviceMemory({ env: { PATH: bin }, probes: failing })).toEqual([]);
    expect(failing.calls.graphics).toBe(1);
    writeScript(join(bin, 'nvidia-smi'), printing([`0, ${UUID0}, ${H100}, 81559, 1, Disabled`]));
    vi.advanceTimersByTime(1000);
    expect(await detectDeviceMemory({ env: { PATH: bin }, probes: failing })).toHaveLength(1);

    const none = graphicsProbes({ controllers: [] });
    const empty = makeBin();
    expect(await detectDeviceMemory({ env: { PATH: empty }, probes: none })).toEqual([]);
    vi.advanceTimersByTime(3_600_000);
    expect(await detectDeviceMemory({ env: { PATH: empty }, probes: none })).toEqual([]);
    expect(none.calls.graphics).toBe(1);
    await detectDeviceMemory({ env: { PATH: empty }, probes: none, refresh: true });
    expect(none.calls.graphics).toBe(2);
  });

  it('reads graphics() again for free memory only when it reports some', async () => {
    vi.useFakeTimers({ toFake: ['hrtime'] });
    const probes = graphicsProbes({
      controllers: [{ vendor: 'NVIDIA', model: 'RTX 4090', vram: 24564, memoryFree: 20000 }],
    });
    const [device] = await detectDeviceMemory({ env: {}, probes });
    expect(device?.freeBytes).toBe(20000 * MIB);
    vi.advanceTimersByTime(1000);
    await detectDeviceMemory({ env: {}, probes });
    expect(probes.calls.graphics).toBe(2);
  });
});

describe('import', () => {
  posix('spawns nothing', async () => {
    const bin = makeBin();
    const runs = { 'nvidia-smi': join(bin, 'nvidia-runs'), 'rocm-smi': join(bin, 'rocm-runs') };
    writeScript(
      join(bin, 'nvidia-smi'),
      printing([`0, ${UUID0}, ${H100}, 1, 1, Disabled`], runs['nvidia-smi']),
    );
    writeScript(join(bin, 'rocm-smi'), printing([ROCM_JSON], runs['rocm-smi']));
    const dist = new URL('../dist/index.js', import.meta.url).href;
    execFileSync(
      process.execPath,
      ['--input-type=module', '-e', `await import(${JSON.stringify(dist)});`],
      { env: { ...process.env, PATH: bin } },
    );
    expect([runsIn(runs['nvidia-smi']), runsIn(runs['rocm-smi'])]).toEqual([0, 0]);
    // The same scripts do run when asked: the count above is not 0 for want of a working tool.
    await detectDeviceMemory({ env: { PATH: bin }, probes: graphicsProbes() });
    expect(runsIn(runs['nvidia-smi'])).toBe(1);
  });
});

describe('finding a tool on PATH', () => {
  // A PATH entry on a hung network mount blocks the thread that looks there. Here every thread of
  // libuv's pool blocks for real, each opening a FIFO that no writer opens: the lookup cannot run.
  posix('stays inside the time budget when the lookup itself hangs', async () => {
    await detectDeviceMemory({ env: { PATH: '' }, probes: graphicsProbes() }); // loaded beforehand
    const bin = makeBin();
    const threads = Number(process.env.UV_THREADPOOL_SIZE) || 4;
    const fifos = Array.from({ length: threads }, (_, i) => join(bin, `fifo${i}`));
    for (const fifo of fifos) execFileSync('mkfifo', [fifo]);
    const { open } = await import('node:fs/promises');
    const blocked = fifos.map((fifo) => open(fifo, 'r'));
    try {
      const started = performance.now();
      const devices = await detectDeviceMemory({
        env: { PATH: makeBin({ 'nvidia-smi': 'echo never' }) },
        probes: graphicsProbes(),
        timeoutMs: 300,
        refresh: true,
      });
      expect(devices).toEqual([]);
      expect(performance.now() - started).toBeLessThan(2000);
    } finally {
      // A writer on each FIFO lets the blocked opens end.
      const { openSync, closeSync } = await import('node:fs');
      for (const fifo of fifos) closeSync(openSync(fifo, 'w'));
      for (const handle of await Promise.all(blocked)) await handle.close();
    }
  });
});

describe('the first usable file of PATH', () => {
  const never = new Promise<boolean>(() => {});
  const answers = (table: Record<string, boolean | 'hangs'>) => (file: string) =>
    table[file] === 'hangs' ? never : Promise.resolve(table[file] === true);

  it('is found while an entry after it hangs, as a network mount may', async () => {
    const found = await firstInOrder(
      ['/a', '/b', '/nfs'],
      answers({ '/b': true, '/nfs': 'hangs' }),
    );
    expect(found).toBe('/b');
  });

  it("waits for an entry before it: PATH's order wins, as in a shell", async () => {
    let release: (answer: boolean) => void = () => {};
    const slow = new Promise<boolean>((resolve) => {
      release = resolve;
    });
    const pending = firstInOrder(['/slow', '/b'], (file) =>
      file === '/slow' ? slow : Promise.resolve(true),
    );
    release(true);
    expect(await pending).toBe('/slow');
    expect(await firstInOrder([], answers({}))).toBeUndefined();
    expect(await firstInOrder(['/a', '/b'], answers({}))).toBeUndefined();
  });
});

describe("Windows' rules for finding a tool", () => {
  it('take only .exe and .com files, first in PATH order, from absolute entries', async () => {
    const first = makeBin({ 'nvidia-smi.cmd': 'exit 0' });
    const second = makeBin({ 'nvidia-smi.exe': 'exit 0' });
    const path = ['relative', first, second].join(delimiter);
    const found = await findExecutable(
      'nvidia-smi',
      { PATH: path },
      new AbortController().signal,
      'win32',
    );
    expect(found).toBe(join(second, 'nvidia-smi.exe'));
    const none = await findExecutable(
      'nvidia-smi',
      { PATH: first },
      new AbortController().signal,
      'win32',
    );
    expect(none).toBeUndefined();
    const aborted = AbortSignal.abort();
    expect(await findExecutable('nvidia-smi', { PATH: second }, aborted, 'win32')).toBeUndefined();
  });
});

describe('a signal while a tool runs', () => {
  /** A tool that sleeps, run; its pids once it has started. */
  async function sleepingTool(controller = new AbortController()) {
    const bin = makeBin();
    const pidFile = join(bin, 'pids');
    writeScript(join(bin, 'tool'), hanging(pidFile));
    const run = runTool(join(bin, 'tool'), [], {}, controller.signal);
    return { run, pids: await pidsIn(pidFile) };
  }

  const gone = (pids: number[]) =>
    vi.waitFor(() => {
      for (const pid of pids) expect(isRunning(pid), `process ${pid}`).toBe(false);
    });

  // Where the test runner handles SIGHUP itself, the library rightly takes nothing.
  const unhandled = it.skipIf(process.platform === 'win32' || process.listenerCount('SIGHUP') > 0);

  unhandled('that nothing handles kills the tool, then ends the process as it would', async () => {
    const raised: unknown[] = [];
    const kill = process.kill.bind(process);
    vi.spyOn(process, 'kill').mockImplementation((pid, signal) => {
      if (pid === process.pid) raised.push(signal);
      else kill(pid, signal);
      return true;
    });
    const { run, pids } = await sleepingTool();
    expect(process.listenerCount('SIGHUP')).toBe(1);
    process.emit('SIGHUP', 'SIGHUP');
    expect(raised).toEqual(['SIGHUP']);
    expect((await run).status).toBe('failed');
    await gone(pids);
    expect(process.listenerCount('SIGHUP')).toBe(0);
  });

  unhandled('that the program handles is left to it, tool and all', async () => {
    const controller = new AbortController();
    const { run, pids } = await sleepingTool(controller);
    const handled = vi.fn();
    process.on('SIGHUP', handled);
    try {
      process.emit('SIGHUP', 'SIGHUP');
      expect(handled).toHaveBeenCalledOnce();
      for (const pid of pids) expect(isRunning(pid)).toBe(true);
      controller.abort();
      expect((await run).status).toBe('cancelled');
      await gone(pids);
    } finally {
      process.removeListener('SIGHUP', handled);
    }
    expect(process.listenerCount('SIGHUP')).toBe(0);
  });

  // A loaded machine may run the tool well before spawn() returns: a signal in that window must
  // already find the handler, or the process ends behind a running tool.
  unhandled('is taken before the tool starts, and given back when it cannot start', async () => {
    const taken: number[] = [];
    const child = track(() => {
      taken.push(process.listenerCount('SIGHUP'));
      return spawn('/bin/sh', ['-c', 'exit 0'], { stdio: 'ignore' });
    });
    expect(taken).toEqual([1]);
    await new Promise((resolve) => child.once('close', resolve));
    expect(process.listenerCount('SIGHUP')).toBe(0);
    expect(() =>
      track(() => {
        taken.push(process.listenerCount('SIGHUP'));
        throw new Error('cannot start');
      }),
    ).toThrow('cannot start');
    expect(taken).toEqual([1, 1]);
    expect(process.listenerCount('SIGHUP')).toBe(0);
  });
});
