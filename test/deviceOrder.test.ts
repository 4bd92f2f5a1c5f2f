// The order rule: CUDA numbers GPUs fastest first unless CUDA_DEVICE_ORDER=PCI_BUS_ID, nvidia-smi
// by PCI bus. On a node whose GPUs differ, `device: n` budgets the smallest GPU n could name.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type DeviceMemory,
  detectDeviceMemory,
  getAdaptiveMemoryThreshold,
  getAdaptiveMemoryThresholdSync,
  planNlsqFit,
} from '../src/index.js';
import { findDevice } from '../src/policy/device.js';
import { budgetMib, MIG_NODE, MIXED_NODE, nvidiaMachine } from './gpuFixtures.js';
import { captureWarnings, graphicsProbes, MIB } from './helpers.js';

const posix = it.skipIf(process.platform === 'win32');
const [A100, L4] = MIXED_NODE;
const A100_TOTAL = 81920 * MIB;
const L4_TOTAL = 23034 * MIB;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('on a node with an A100 and an L4', () => {
  posix('lists both in PCI bus order, as nvidia-smi numbers them', async () => {
    const { bin } = nvidiaMachine(MIXED_NODE);
    const devices = await detectDeviceMemory({ env: { PATH: bin }, probes: graphicsProbes() });
    expect(devices.map((device) => [device.index, device.name, device.totalBytes])).toEqual([
      [0, A100?.name, A100_TOTAL],
      [1, L4?.name, L4_TOTAL],
    ]);
  });

  posix('budgets the L4 for device 0 or 1, with a warning, in the default order', async () => {
    const warnings = captureWarnings();
    expect(await budgetMib(0)).toBe(23034);
    expect(await budgetMib(1)).toBe(23034);
    expect(warnings.map((warning) => warning.code)).toEqual(['NLSQ_MEMORY_DEVICE_ORDER']);
    expect(warnings[0]?.message).toBe(
      "device 0 may be any of nvidia-smi's GPUs 0 (NVIDIA A100-SXM4-80GB, 80.00 GB), 1 (NVIDIA L4, 22.49 GB): CUDA counts them fastest first, nvidia-smi by PCI bus. Budgeting the smallest, nvidia-smi's GPU 1; set CUDA_DEVICE_ORDER=PCI_BUS_ID, or name GPUs by UUID in CUDA_VISIBLE_DEVICES",
    );
    expect(await budgetMib(0, { CUDA_DEVICE_ORDER: 'FASTEST_FIRST' })).toBe(23034);
  });

  posix('budgets the smallest free memory with basis available', async () => {
    captureWarnings();
    expect(await budgetMib(0, {}, 'available')).toBe(22000);
  });

  posix(
    'budgets the device named with CUDA_DEVICE_ORDER=PCI_BUS_ID, without a warning',
    async () => {
      const warnings = captureWarnings();
      expect(await budgetMib(0, { CUDA_DEVICE_ORDER: 'PCI_BUS_ID' })).toBe(81920);
      expect(await budgetMib(1, { CUDA_DEVICE_ORDER: 'PCI_BUS_ID' })).toBe(23034);
      expect(warnings).toEqual([]);
    },
  );

  posix('takes UUIDs in CUDA_VISIBLE_DEVICES as exact', async () => {
    const warnings = captureWarnings();
    const visible = `${L4?.uuid},${A100?.uuid.slice(0, 10)}`;
    expect(await budgetMib(0, { CUDA_VISIBLE_DEVICES: visible })).toBe(23034);
    expect(await budgetMib(1, { CUDA_VISIBLE_DEVICES: visible })).toBe(81920);
    expect(warnings).toEqual([]);
  });

  posix('warns that indices in CUDA_VISIBLE_DEVICES may name other GPUs', async () => {
    const warnings = captureWarnings();
    const { bin } = nvidiaMachine(MIXED_NODE);
    const env = { PATH: bin, CUDA_VISIBLE_DEVICES: '0' };
    const devices = await detectDeviceMemory({ env, probes: graphicsProbes(), refresh: true });
    expect(devices.map((device) => device.name)).toEqual([A100?.name]);
    expect(warnings.map((warning) => warning.message)).toEqual([
      "CUDA_VISIBLE_DEVICES=0 names GPUs by index, which CUDA counts fastest first: the GPUs listed are nvidia-smi's, in PCI bus order, and may not be those CUDA uses. Set CUDA_DEVICE_ORDER=PCI_BUS_ID, or name GPUs by UUID",
    ]);
    captureWarnings();
    await detectDeviceMemory({
      env: { ...env, CUDA_DEVICE_ORDER: 'PCI_BUS_ID' },
      probes: graphicsProbes(),
      refresh: true,
    });
    expect(warnings).toHaveLength(1);
  });

  posix('divides the smallest GPU among workers', async () => {
    captureWarnings();
    const { bin } = nvidiaMachine(MIXED_NODE);
    const options = { device: 0, workers: 2, env: { PATH: bin }, deviceProbes: graphicsProbes() };
    const plan = await planNlsqFit(1_000_000, 10, options);
    expect(plan.thresholdBytes).toBe(Math.floor((L4_TOTAL * 0.75) / 2));
  });
});

describe('the rule', () => {
  const listed = (devices: Partial<DeviceMemory>[]): DeviceMemory[] =>
    devices.map((device, index) => ({
      index,
      uuid: `GPU-${index}`,
      name: 'NVIDIA H100 80GB HBM3',
      vendor: 'nvidia',
      totalBytes: 80 * 1024 * MIB,
      freeBytes: null,
      unifiedMemory: false,
      source: 'nvidia-smi',
      ...device,
    }));

  it('leaves identical GPUs, MIG instances and other vendors alone', () => {
    const warnings = captureWarnings();
    const twins = listed([{}, {}]);
    expect(findDevice(twins, 1, false)).toBe(twins[1]);
    const slices = listed([
      { uuid: 'MIG-a', totalBytes: 10 * 1024 * MIB },
      { uuid: 'MIG-b', totalBytes: 40 * 1024 * MIB },
    ]);
    expect(findDevice(slices, 1, false)).toBe(slices[1]);
    const amd = listed([{ vendor: 'amd' }, { vendor: 'amd', totalBytes: 1 }]);
    expect(findDevice(amd, 0, false)).toBe(amd[0]);
    // A whole GPU beside a MIG instance: the instance is not a GPU an index could name.
    const both = listed([{}, { uuid: 'MIG-c', totalBytes: 1 }]);
    expect(findDevice(both, 0, false)).toBe(both[0]);
    expect(warnings).toEqual([]);
  });

  it('differs by model as well as by memory', () => {
    captureWarnings();
    const devices = listed([{ name: 'NVIDIA A100 80GB PCIe', freeBytes: 5 }, { freeBytes: 9 }]);
    expect(findDevice(devices, 1, false, 'available')).toBe(devices[0]);
    expect(findDevice(devices, 1, false, 'total')).toBe(devices[0]);
    expect(findDevice(devices, 1, true)).toBe(devices[1]);
  });

  it('applies to a list given as devices, by the env given', () => {
    captureWarnings();
    const devices = listed([{ totalBytes: 16 * 1024 * MIB }, {}]);
    const total = (env: Record<string, string>) =>
      getAdaptiveMemoryThresholdSync({ device: 1, devices, env }).info.totalMemoryGb;
    expect(total({})).toBe(16);
    expect(total({ CUDA_DEVICE_ORDER: 'PCI_BUS_ID' })).toBe(80);
    expect(total({ CUDA_VISIBLE_DEVICES: 'GPU-0,GPU-1' })).toBe(80);
    expect(total({ CUDA_VISIBLE_DEVICES: '0,1' })).toBe(16);
  });

  posix('numbers MIG instances as nvidia-smi -L lists them, without a warning', async () => {
    const warnings = captureWarnings();
    const { bin } = nvidiaMachine(MIG_NODE);
    const options = { env: { PATH: bin }, deviceProbes: graphicsProbes(), refresh: true };
    const slice = await getAdaptiveMemoryThreshold({ ...options, device: 1 });
    expect(slice.info.totalMemoryGb * 1024).toBe(40192);
    expect(warnings).toEqual([]);
  });
});
