// Indices in CUDA_VISIBLE_DEVICES count GPUs in CUDA's order, fastest first unless
// CUDA_DEVICE_ORDER=PCI_BUS_ID: on a node whose GPUs differ, a visible index may be any GPU of the
// node, not only one of those nvidia-smi's numbering leaves visible. Its budget is the smallest.
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { visibleDevices } from '../src/detect/visibility.js';
import { detectDeviceMemory, getAdaptiveMemoryThresholdSync } from '../src/index.js';
import type { RawDevice } from '../src/sources/gpu/rawDevice.js';
import { budgetMib, MIXED_NODE, nvidiaMachine } from './gpuFixtures.js';
import { captureWarnings, graphicsProbes, MIB } from './helpers.js';

const posix = it.skipIf(process.platform === 'win32');
const [A100, L4] = MIXED_NODE;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('CUDA_VISIBLE_DEVICES by index on a node with an A100 and an L4', () => {
  posix('budgets the L4 for 0, which CUDA may count as either GPU', async () => {
    const warnings = captureWarnings();
    expect(await budgetMib(0, { CUDA_VISIBLE_DEVICES: '0' })).toBe(23034);
    expect(await budgetMib(0, { CUDA_VISIBLE_DEVICES: '1,0' })).toBe(23034);
    expect(await budgetMib(1, { CUDA_VISIBLE_DEVICES: '1,0' })).toBe(23034);
    expect(await budgetMib(0, { CUDA_VISIBLE_DEVICES: '0' }, 'available')).toBe(22000);
    expect(warnings.map(({ code }) => code)).toEqual([
      'NLSQ_MEMORY_DEVICE_ORDER',
      'NLSQ_MEMORY_DEVICE_ORDER',
    ]);
    expect(warnings[1]?.message).toBe(
      "device 0 may be any of nvidia-smi's GPUs 0 (NVIDIA A100-SXM4-80GB, 80.00 GB), 1 (NVIDIA L4, 22.49 GB): CUDA counts them fastest first, nvidia-smi by PCI bus. Budgeting the smallest, nvidia-smi's GPU 1; set CUDA_DEVICE_ORDER=PCI_BUS_ID, or name GPUs by UUID in CUDA_VISIBLE_DEVICES",
    );
  });

  posix('budgets the GPU nvidia-smi numbers so with CUDA_DEVICE_ORDER=PCI_BUS_ID', async () => {
    const warnings = captureWarnings();
    const byBus = { CUDA_DEVICE_ORDER: 'PCI_BUS_ID' };
    expect(await budgetMib(0, { ...byBus, CUDA_VISIBLE_DEVICES: '0' })).toBe(81920);
    expect(await budgetMib(1, { ...byBus, CUDA_VISIBLE_DEVICES: '1,0' })).toBe(81920);
    expect(warnings).toEqual([]);
  });

  posix('lists the GPU nvidia-smi numbers so, with the GPUs CUDA may mean', async () => {
    captureWarnings();
    const { bin } = nvidiaMachine(MIXED_NODE);
    const env = { PATH: bin, CUDA_VISIBLE_DEVICES: '0' };
    const [device, ...rest] = await detectDeviceMemory({ env, probes: graphicsProbes() });
    expect(rest).toEqual([]);
    expect(device).toMatchObject({ index: 0, name: A100?.name, totalBytes: 81920 * MIB });
    expect(device?.uncertain).toEqual({
      reason: 'order',
      candidates: [
        {
          sourceIndex: 0,
          uuid: A100?.uuid,
          name: A100?.name,
          totalBytes: 81920 * MIB,
          freeBytes: 81000 * MIB,
        },
        {
          sourceIndex: 1,
          uuid: L4?.uuid,
          name: L4?.name,
          totalBytes: 23034 * MIB,
          freeBytes: 22000 * MIB,
        },
      ],
    });
    // The list, given back, budgets the same; by UUID or PCI bus order, a device is exact.
    const devices = device === undefined ? [] : [device];
    const total = (more: Record<string, string>) =>
      getAdaptiveMemoryThresholdSync({ device: 0, devices, env: { ...env, ...more } }).info
        .totalMemoryGb;
    expect(total({}) * 1024).toBe(23034);
    expect(total({ CUDA_DEVICE_ORDER: 'PCI_BUS_ID' }) * 1024).toBe(81920);
    const exact = await detectDeviceMemory({
      env: { ...env, CUDA_VISIBLE_DEVICES: `${L4?.uuid}` },
      probes: graphicsProbes(),
    });
    expect(exact.map((gpu) => gpu.uncertain)).toEqual([undefined]);
  });
});

/** A whole GPU of `mib` MiB, numbered `ordinal` by nvidia-smi. */
const gpu = (mib: number, ordinal: number): RawDevice => ({
  ordinal,
  uuid: `GPU-${ordinal}0000000-0000-4000-8000-000000000000`,
  name: `GPU of ${mib} MiB`,
  vendor: 'nvidia',
  totalBytes: mib * MIB,
  freeBytes: (mib - 1) * MIB,
});

/** A node, a CUDA_VISIBLE_DEVICES made of indices (some past the last GPU) and UUIDs, an order. */
const cases = fc
  .array(fc.constantFrom(16384, 23034, 81920), { minLength: 1, maxLength: 6 })
  .chain((sizes) =>
    fc.record({
      sizes: fc.constant(sizes),
      entries: fc.option(
        fc.array(
          fc.oneof(
            fc.nat(sizes.length).map((index) => ({ index })),
            fc.nat(sizes.length - 1).map((uuidOf) => ({ uuidOf })),
          ),
          { maxLength: 7 },
        ),
      ),
      order: fc.constantFrom(undefined, 'PCI_BUS_ID', 'FASTEST_FIRST'),
    }),
  );

describe('the rule, for any node and any CUDA_VISIBLE_DEVICES', () => {
  it('budgets, for a device shown by index, the smallest GPU of the node', () => {
    captureWarnings();
    fc.assert(
      fc.property(cases, ({ sizes, entries, order }) => {
        const node = sizes.map(gpu);
        const values = (entries ?? []).map((entry) =>
          'index' in entry ? String(entry.index) : `${node[entry.uuidOf]?.uuid}`,
        );
        const env: Record<string, string> = {};
        if (entries !== null) env.CUDA_VISIBLE_DEVICES = values.join(',');
        if (order !== undefined) env.CUDA_DEVICE_ORDER = order;
        // What nvidia-smi's numbering shows: each entry's GPU, up to one that names none or again.
        const shown: { gpu: RawDevice; byIndex: boolean }[] = [];
        for (const entry of entries ?? node.map((_, index) => ({ index }))) {
          const named = 'index' in entry ? node[entry.index] : node[entry.uuidOf];
          if (named === undefined || shown.some((seen) => seen.gpu === named)) break;
          shown.push({ gpu: named, byIndex: 'index' in entry });
        }
        const devices = visibleDevices(node, 'nvidia-smi', env);
        expect(devices.map((device) => device.uuid)).toEqual(shown.map((seen) => seen.gpu.uuid));
        const byBus = order === 'PCI_BUS_ID';
        const byUuid =
          entries !== null && entries.length > 0 && entries.every((e) => 'uuidOf' in e);
        const smallest = Math.min(...sizes) * MIB;
        for (const [index, { gpu: named, byIndex }] of shown.entries()) {
          const { info } = getAdaptiveMemoryThresholdSync({ device: index, devices, env });
          const budget = info.totalMemoryGb * 1024 ** 3;
          if (byBus || byUuid) expect(budget).toBe(named.totalBytes);
          else if (byIndex) expect(budget).toBe(smallest);
          else {
            // A UUID is exact; beside indices, it is budgeted no higher than it is.
            expect(budget).toBeLessThanOrEqual(named.totalBytes ?? 0);
            expect(budget).toBeGreaterThanOrEqual(smallest);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
