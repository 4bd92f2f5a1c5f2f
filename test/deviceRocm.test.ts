// AMD visibility as HIP applies it: ROCR_VISIBLE_DEVICES first, then HIP_VISIBLE_DEVICES when it is
// non-empty, else CUDA_VISIBLE_DEVICES. A fake rocm-smi lists two RX 6800s and a 64 MiB iGPU.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectDeviceMemory, getAdaptiveMemoryThreshold } from '../src/index.js';
import { printing, ROCM_TWO_CARDS_AND_IGPU } from './gpuFixtures.js';
import { graphicsProbes, MIB, makeBin, runsIn, writeScript } from './helpers.js';

const posix = it.skipIf(process.platform === 'win32');
const RX_6800 = 17163091968;

/** A PATH holding only the fake rocm-smi, which counts its runs. */
function rocmMachine(): { bin: string; runs: () => number } {
  const bin = makeBin();
  const counter = join(bin, 'runs');
  writeScript(
    join(bin, 'rocm-smi'),
    `echo run >> '${counter}'\n${printing(ROCM_TWO_CARDS_AND_IGPU)}`,
  );
  return { bin, runs: () => runsIn(counter) };
}

describe('rocm-smi with two RX 6800s and an iGPU', () => {
  posix('lists the visible cards as HIP numbers them, from one run', async () => {
    const { bin, runs } = rocmMachine();
    const probes = graphicsProbes();
    const cards = async (env: Record<string, string>) =>
      (await detectDeviceMemory({ env: { PATH: bin, ...env }, probes, ttlMs: 60_000 })).map(
        ({ index, name }) => `${index}:${name}`,
      );
    expect(await cards({})).toEqual(['0:card0', '1:card1', '2:card2']);
    // HIP honours CUDA_VISIBLE_DEVICES when HIP_VISIBLE_DEVICES is unset or empty.
    expect(await cards({ CUDA_VISIBLE_DEVICES: '1' })).toEqual(['0:card1']);
    expect(await cards({ CUDA_VISIBLE_DEVICES: '0,1' })).toEqual(['0:card0', '1:card1']);
    expect(await cards({ HIP_VISIBLE_DEVICES: '', CUDA_VISIBLE_DEVICES: '1' })).toEqual([
      '0:card1',
    ]);
    // A non-empty HIP_VISIBLE_DEVICES wins over CUDA_VISIBLE_DEVICES.
    expect(await cards({ HIP_VISIBLE_DEVICES: '0', CUDA_VISIBLE_DEVICES: '1' })).toEqual([
      '0:card0',
    ]);
    // An empty HIP_VISIBLE_DEVICES restricts nothing; an empty ROCR_VISIBLE_DEVICES hides all.
    expect(await cards({ HIP_VISIBLE_DEVICES: '' })).toHaveLength(3);
    expect(await cards({ CUDA_VISIBLE_DEVICES: '' })).toHaveLength(3);
    expect(await cards({ ROCR_VISIBLE_DEVICES: '' })).toEqual([]);
    // HIP's and CUDA's indices count among the cards ROCR_VISIBLE_DEVICES left visible.
    expect(await cards({ ROCR_VISIBLE_DEVICES: '2,1', CUDA_VISIBLE_DEVICES: '1' })).toEqual([
      '0:card1',
    ]);
    expect(await cards({ CUDA_VISIBLE_DEVICES: '1,7,0' })).toEqual(['0:card1']);
    expect(runs()).toBe(1);
  });

  posix('budgets the card CUDA_VISIBLE_DEVICES leaves as device 0, not the iGPU', async () => {
    const { bin } = rocmMachine();
    const threshold = async (env: Record<string, string>) =>
      (
        await getAdaptiveMemoryThreshold({
          device: 0,
          env: { PATH: bin, ...env },
          deviceProbes: graphicsProbes(),
          basis: 'available',
        })
      ).info.totalMemoryGb;
    expect(await threshold({ CUDA_VISIBLE_DEVICES: '1' })).toBe((RX_6800 - 256 * MIB) / 1024 ** 3);
    expect(await threshold({ CUDA_VISIBLE_DEVICES: '2' })).toBe(48 / 1024);
    expect(await threshold({ HIP_VISIBLE_DEVICES: '1,0' })).toBe((RX_6800 - 256 * MIB) / 1024 ** 3);
  });
});
