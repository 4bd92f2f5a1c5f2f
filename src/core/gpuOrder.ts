import type { DeviceVendor } from './types.js';

/** What the order rule reads of a GPU, listed or raw. */
interface GpuLike {
  vendor: DeviceVendor;
  uuid: string | null;
  name: string;
  totalBytes: number | null;
}

/**
 * Whether CUDA numbers the GPUs as nvidia-smi does: with `CUDA_DEVICE_ORDER=PCI_BUS_ID` (`order`),
 * or when `CUDA_VISIBLE_DEVICES` (`visible`) names every device by UUID. CUDA's default order is
 * fastest first.
 */
export function cudaOrderKnown(order: string | undefined, visible: string | undefined): boolean {
  if (order === 'PCI_BUS_ID') return true;
  if (visible === undefined || visible.trim() === '') return false;
  return visible.split(',').every((entry) => /^(?:GPU|MIG)-/i.test(entry.trim()));
}

/** The whole NVIDIA GPUs among `devices` with a known memory: MIG instances and unified ones aside. */
export function wholeNvidiaGpus<T extends GpuLike>(
  devices: readonly T[],
): (T & { totalBytes: number })[] {
  return devices.filter(
    (device): device is T & { totalBytes: number } =>
      device.vendor === 'nvidia' && device.totalBytes !== null && !/^MIG-/i.test(device.uuid ?? ''),
  );
}

/** Whether GPUs differ in model or memory: then which of them an index names depends on the order. */
export function gpusDiffer(gpus: readonly Pick<GpuLike, 'name' | 'totalBytes'>[]): boolean {
  return gpus.some((gpu) => gpu.name !== gpus[0]?.name || gpu.totalBytes !== gpus[0]?.totalBytes);
}
