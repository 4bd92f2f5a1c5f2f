// AMD cards by UUID: ROCR_VISIBLE_DEVICES (and HIP's variables) take `GPU-` and the card's unique
// ID in 16 hex digits, as rocminfo prints it. rocm-smi gives that ID with `--showuniqueid`, asked
// in the same run as the memory.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectDeviceMemory } from '../src/index.js';
import { parseRocmSmi, rocmUuid } from '../src/sources/gpu/rocmSmi.js';
import {
  printing,
  ROCM_TWO_CARDS_AND_IGPU,
  ROCM_TWO_CARDS_AND_IGPU_IDS,
  rocmScript,
} from './gpuFixtures.js';
import { graphicsProbes, makeBin, writeScript } from './helpers.js';

const posix = it.skipIf(process.platform === 'win32');
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
