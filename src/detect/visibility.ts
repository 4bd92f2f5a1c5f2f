import { logger, warnOnce } from '../core/diagnostics.js';
import { cudaOrderKnown, gpusDiffer, wholeNvidiaGpus } from '../core/gpuOrder.js';
import type {
  DeviceCandidate,
  DeviceMemory,
  DeviceSource,
  DeviceUncertainty,
  DeviceVendor,
} from '../core/types.js';
import type { RawDevice } from '../sources/gpu/rawDevice.js';
import { envValue } from '../sources/gpu/tools.js';
import type { Env } from '../sources/slurm.js';
import { isIndex, restrictDevices, type ShownDevice, unrestricted } from './restrict.js';

const log = logger('device');

/** What HIP restricts AMD devices by: `HIP_VISIBLE_DEVICES` when non-empty, else `CUDA_VISIBLE_DEVICES`. */
function hipVariable(env: Env): [string, string | undefined] {
  for (const name of ['HIP_VISIBLE_DEVICES', 'CUDA_VISIBLE_DEVICES']) {
    const value = envValue(env, name);
    if (value !== undefined && value !== '') return [name, value];
  }
  return ['HIP_VISIBLE_DEVICES', undefined];
}

/**
 * Warns when `CUDA_VISIBLE_DEVICES` names GPUs by index on a machine whose GPUs differ, in CUDA's
 * fastest-first order: which GPUs it shows depends on an order nvidia-smi does not tell.
 */
function warnIfIndicesUncertain(nvidia: readonly RawDevice[], env: Env, visible: string): void {
  if (!visible.split(',').some(isIndex)) return;
  if (cudaOrderKnown(envValue(env, 'CUDA_DEVICE_ORDER'), visible)) return;
  if (!gpusDiffer(wholeNvidiaGpus(nvidia))) return;
  warnOnce(
    'NLSQ_MEMORY_DEVICE_ORDER',
    `CUDA_VISIBLE_DEVICES=${visible} names GPUs by index, which CUDA counts fastest first: the GPUs listed are nvidia-smi's, in PCI bus order, and may not be those CUDA uses. Set CUDA_DEVICE_ORDER=PCI_BUS_ID, or name GPUs by UUID`,
    'visibility',
  );
}

/** A GPU of the node as a candidate for a device. */
function candidateOf(device: RawDevice & { totalBytes: number }): DeviceCandidate {
  const { ordinal, uuid, name, totalBytes, freeBytes } = device;
  return { sourceIndex: ordinal, uuid, name, totalBytes, freeBytes };
}

/**
 * The GPUs CUDA may mean by a device shown by index, where its order may not be nvidia-smi's:
 * any whole GPU of the node (`nodeGpus`, before visibility), when they differ in model or memory.
 * A device a UUID named, a MIG instance, and one sharing the host's memory are exact.
 */
function orderUncertainty(
  device: ShownDevice,
  nodeGpus: readonly (RawDevice & { totalBytes: number })[],
): DeviceUncertainty | undefined {
  if (!device.byIndex || device.vendor !== 'nvidia' || device.mig !== undefined) return undefined;
  if (device.totalBytes === null || !gpusDiffer(nodeGpus)) return undefined;
  return { reason: 'order', candidates: nodeGpus.map(candidateOf) };
}

/**
 * The devices a fit in this process can use: NVIDIA ones through `CUDA_VISIBLE_DEVICES`, AMD ones
 * as HIP applies `ROCR_VISIBLE_DEVICES`, then `HIP_VISIBLE_DEVICES` when non-empty, else
 * `CUDA_VISIBLE_DEVICES` when non-empty; numbered from 0 in that order. A device whose total
 * memory is unknown (and that does not share the host's) is left out; its number is not reused.
 * Where CUDA's order is not known to be nvidia-smi's, a whole GPU shown by index carries the
 * node's GPUs it may be (`uncertain`), as does a stand-in for a UUID no device matched.
 */
export function visibleDevices(
  devices: readonly RawDevice[],
  source: DeviceSource,
  env: Env,
): DeviceMemory[] {
  const of = (vendor: DeviceVendor) => unrestricted(devices.filter((d) => d.vendor === vendor));
  const cuda = envValue(env, 'CUDA_VISIBLE_DEVICES');
  const nvidiaGpus = wholeNvidiaGpus(devices.filter((device) => device.mig === undefined));
  if (cuda !== undefined) warnIfIndicesUncertain(nvidiaGpus, env, cuda);
  const orderKnown = cudaOrderKnown(envValue(env, 'CUDA_DEVICE_ORDER'), cuda);
  const nodeGpus = orderKnown ? [] : nvidiaGpus;
  const nvidia = restrictDevices(of('nvidia'), cuda, { variable: 'CUDA_VISIBLE_DEVICES', source });
  const rocr = restrictDevices(of('amd'), envValue(env, 'ROCR_VISIBLE_DEVICES'), {
    variable: 'ROCR_VISIBLE_DEVICES',
    source,
  });
  const [hipName, hip] = hipVariable(env);
  const amd = restrictDevices(rocr, hip, { variable: hipName, source });
  const visible: DeviceMemory[] = [];
  [...nvidia, ...amd, ...of('other')].forEach((device, index) => {
    const { uuid, name, vendor, totalBytes, freeBytes } = device;
    const unifiedMemory = device.unifiedMemory === true;
    if (totalBytes === null && !unifiedMemory) {
      log('%s: leaving out device %d (%s), whose total memory is unknown', source, index, name);
      return;
    }
    const listed = { index, uuid, name, vendor, totalBytes, freeBytes, unifiedMemory, source };
    const uncertain: DeviceUncertainty | undefined =
      device.unmatched === undefined
        ? orderUncertainty(device, nodeGpus)
        : { reason: 'uuid', candidates: device.unmatched.map(candidateOf) };
    visible.push(uncertain === undefined ? listed : { ...listed, uncertain });
  });
  return visible;
}
