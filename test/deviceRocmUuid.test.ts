// AMD cards by UUID: ROCR_VISIBLE_DEVICES (and HIP's variables) take `GPU-` and the card's unique
// ID in 16 hex digits, as rocminfo prints it. rocm-smi gives that ID with `--showuniqueid`, asked
// in the same run as the memory.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { detectDeviceMemory, getAdaptiveMemoryThreshold } from '../src/index.js';
import { parseRocmSmi, rocmUuid } from '../src/sources/gpu/rocmSmi.js';
import {
  MIXED_NODE,
  nvidiaMachine,
  printing,
  ROCM_TWO_CARDS_AND_IGPU,
  ROCM_TWO_CARDS_AND_IGPU_IDS,
  rocmScript,
} from './gpuFixtures.js';
import { captureWarnings, graphicsProbes, MIB, makeBin, writeScript } from './helpers.js';

const posix = it.skipIf(process.platform === 'win32');

afterEach(() => {
  vi.restoreAllMocks();
});
const CARD0 = 'GPU-592c190172fd5d40';
const CARD1 = 'GPU-c6f220c172dc76bb';

/** A PATH holding a rocm-smi that answers `--showuniqueid` with `withIds`; `<bin>/log` lists its runs. */
function rocmMachine(withIds: string): { bin: string; runs: () => string[] } {
  const bin = makeBin();
  const log = join(bin, 'log');
  writeScript(join(bin, 'rocm-smi'), rocmScript(withIds, printing(ROCM_TWO_CARDS_AND_IGPU), log));
  return { bin, runs: () => readFileSync(log, 'utf8').trim().split('\n') };
}

describe("a card's unique ID", () => {
  it('is the UUID ROCm gives it: GPU- and 16 hex digits', () => {
    expect(rocmUuid('0x592c190172fd5d40')).toBe(CARD0);
    expect(rocmUuid('592C190172FD5D40')).toBe(CARD0);
    expect(rocmUuid('0xab83d2ffef0d3cd')).toBe('GPU-0ab83d2ffef0d3cd');
    for (const none of ['N/A', '0x0', '0', '', '0x', 'GPU-XX', '0x1234567890abcdef0', 42, null]) {
      expect(rocmUuid(none), String(none)).toBeNull();
    }
  });

  it("is read from rocm-smi's JSON beside the memory", () => {
    const cards = parseRocmSmi(ROCM_TWO_CARDS_AND_IGPU_IDS) ?? [];
    expect(cards.map(({ name, uuid }) => [name, uuid])).toEqual([
      ['card0', CARD0],
      ['card1', CARD1],
      ['card2', null],
    ]);
  });
});

describe('ROCR_VISIBLE_DEVICES by UUID', () => {
  posix('shows the card named, from one run of rocm-smi', async () => {
    const { bin, runs } = rocmMachine(printing(ROCM_TWO_CARDS_AND_IGPU_IDS));
    const probes = graphicsProbes();
    const cards = async (env: Record<string, string>) =>
      (await detectDeviceMemory({ env: { PATH: bin, ...env }, probes, ttlMs: 60_000 })).map(
        ({ index, name, uuid }) => `${index}:${name}:${uuid}`,
      );
    expect(await cards({ ROCR_VISIBLE_DEVICES: CARD1 })).toEqual([`0:card1:${CARD1}`]);
    expect(await cards({ ROCR_VISIBLE_DEVICES: `${CARD1.toUpperCase()},0` })).toEqual([
      `0:card1:${CARD1}`,
      `1:card0:${CARD0}`,
    ]);
    expect(await cards({ HIP_VISIBLE_DEVICES: CARD0 })).toEqual([`0:card0:${CARD0}`]);
    expect(await cards({ ROCR_VISIBLE_DEVICES: '1,0', HIP_VISIBLE_DEVICES: CARD0 })).toEqual([
      `0:card0:${CARD0}`,
    ]);
    expect(runs()).toEqual(['--showmeminfo vram --showuniqueid --json']);
  });

  posix('asks again without the unique IDs when rocm-smi fails with them', async () => {
    const { bin, runs } = rocmMachine('echo "unrecognized arguments: --showuniqueid" >&2\nexit 2');
    const devices = await detectDeviceMemory({ env: { PATH: bin }, probes: graphicsProbes() });
    expect(devices.map(({ name, uuid }) => [name, uuid])).toEqual([
      ['card0', null],
      ['card1', null],
      ['card2', null],
    ]);
    expect(runs()).toEqual([
      '--showmeminfo vram --showuniqueid --json',
      '--showmeminfo vram --json',
    ]);
  });
});

describe('a UUID that no card with a known UUID matches', () => {
  const noIds = () => rocmMachine('exit 2');
  const withIds = () => rocmMachine(printing(ROCM_TWO_CARDS_AND_IGPU_IDS));
  const iGpu = {
    sourceIndex: 2,
    uuid: null,
    name: 'card2',
    totalBytes: 64 * MIB,
    freeBytes: 48 * MIB,
  };
  const rx6800 = (card: number, freeMib: number) => ({
    sourceIndex: card,
    uuid: null,
    name: `card${card}`,
    totalBytes: 17163091968,
    freeBytes: 17163091968 - freeMib * MIB,
  });

  posix('where rocm-smi gave no ID, keeps a device: the smallest card it may be', async () => {
    const warnings = captureWarnings();
    const { bin } = noIds();
    const env = { PATH: bin, ROCR_VISIBLE_DEVICES: CARD1 };
    const devices = await detectDeviceMemory({ env, probes: graphicsProbes(), refresh: true });
    expect(devices).toEqual([
      {
        index: 0,
        uuid: CARD1,
        name: 'card2',
        vendor: 'amd',
        totalBytes: 64 * MIB,
        freeBytes: 48 * MIB,
        unifiedMemory: false,
        source: 'rocm-smi',
        uncertain: { reason: 'uuid', candidates: [rx6800(0, 1024), rx6800(1, 256), iGpu] },
      },
    ]);
    expect(warnings).toEqual([
      {
        code: 'NLSQ_MEMORY_DEVICE_UUID_UNMATCHED',
        message: `ROCR_VISIBLE_DEVICES names ${CARD1}, but rocm-smi gave no UUID for card0 (15.98 GB), card1 (15.98 GB), card2 (0.06 GB): it may be any of them. Listing the smallest, card2 (0.06 GB), in its place`,
      },
    ]);
    // Budgeted as the smallest, never 0, and the same by the list given back.
    const budget = await getAdaptiveMemoryThreshold({
      device: 0,
      env,
      deviceProbes: graphicsProbes(),
    });
    expect(budget.thresholdBytes).toBe(48 * MIB);
    expect(budget.info.detectionMethod).toBe('rocm-smi');
    const free = await getAdaptiveMemoryThreshold({ device: 0, devices, basis: 'available' });
    expect(free.thresholdBytes).toBe(36 * MIB);
  });

  posix('shows one device for each such UUID, HIP_VISIBLE_DEVICES too', async () => {
    captureWarnings();
    const { bin } = noIds();
    const names = async (env: Record<string, string>) =>
      (await detectDeviceMemory({ env: { PATH: bin, ...env }, probes: graphicsProbes() })).map(
        ({ index, name, uuid }) => `${index}:${name}:${uuid}`,
      );
    expect(await names({ ROCR_VISIBLE_DEVICES: `${CARD0},${CARD1}` })).toEqual([
      `0:card2:${CARD0}`,
      `1:card2:${CARD1}`,
    ]);
    expect(await names({ HIP_VISIBLE_DEVICES: CARD0 })).toEqual([`0:card2:${CARD0}`]);
    // One ROCR left by UUID is named by that UUID, or by its index, after.
    expect(await names({ ROCR_VISIBLE_DEVICES: CARD0, HIP_VISIBLE_DEVICES: CARD0 })).toEqual([
      `0:card2:${CARD0}`,
    ]);
    // A card named by index is no longer one a UUID may be.
    expect(await names({ ROCR_VISIBLE_DEVICES: `2,${CARD1}` })).toEqual([
      '0:card2:null',
      `1:card0:${CARD1}`,
    ]);
  });

  posix('where only some cards have an ID, may be only one of those without', async () => {
    captureWarnings();
    const { bin } = withIds();
    const env = { PATH: bin, ROCR_VISIBLE_DEVICES: 'GPU-0123456789abcdef' };
    const [device, ...rest] = await detectDeviceMemory({ env, probes: graphicsProbes() });
    expect(rest).toEqual([]);
    expect(device).toMatchObject({ name: 'card2', uuid: 'GPU-0123456789abcdef' });
    expect(device?.uncertain).toEqual({ reason: 'uuid', candidates: [iGpu] });
  });

  posix('where every card has an ID, shows nothing, as ROCm does, with a warning', async () => {
    const warnings = captureWarnings();
    const { bin } = rocmMachine(
      printing(ROCM_TWO_CARDS_AND_IGPU_IDS.replace('"N/A"', '"0x1111222233334444"')),
    );
    const env = { PATH: bin, ROCR_VISIBLE_DEVICES: `${CARD0},GPU-0123456789abcdef,${CARD1}` };
    const devices = await detectDeviceMemory({ env, probes: graphicsProbes() });
    expect(devices.map(({ name }) => name)).toEqual(['card0']);
    expect(warnings).toEqual([
      {
        code: 'NLSQ_MEMORY_DEVICE_UUID_UNMATCHED',
        message:
          'ROCR_VISIBLE_DEVICES names GPU-0123456789abcdef, which is no GPU rocm-smi lists: it and the entries after it are hidden, as the runtime hides them',
      },
    ]);
  });

  posix('on an NVIDIA node, a CUDA UUID is no AMD card to warn about', async () => {
    const warnings = captureWarnings();
    const { bin } = nvidiaMachine(MIXED_NODE);
    const env = { PATH: bin, CUDA_VISIBLE_DEVICES: `${MIXED_NODE[1]?.uuid}` };
    const devices = await detectDeviceMemory({ env, probes: graphicsProbes(), refresh: true });
    expect(devices.map(({ name }) => name)).toEqual(['NVIDIA L4']);
    expect(warnings).toEqual([]);
  });
});
