import { parseDecimal, parseInteger } from '../../core/numbers.js';
import { MIB } from '../../core/units.js';
import type { NvidiaGpu } from './nvidiaSmi.js';
import type { RawDevice } from './rawDevice.js';

/** The arguments that make `nvidia-smi` list the GPUs and their MIG instances with UUIDs. */
export const NVIDIA_SMI_LIST_ARGS: readonly string[] = ['-L'];

/** The arguments that make `nvidia-smi` print every GPU's state as XML, MIG instances' memory included. */
export const NVIDIA_SMI_XML_ARGS: readonly string[] = ['-q', '-x'];

/** A MIG instance as `nvidia-smi -L` lists it. */
interface ListedInstance {
  profile: string;
  device: number;
  uuid: string;
}

/** A MIG instance as `nvidia-smi -q -x` describes it. */
interface XmlInstance {
  device: number;
  gpuInstance: number;
  computeInstance: number;
  totalBytes: number;
  freeBytes: number | null;
}

/** What `nvidia-smi -L` and `nvidia-smi -q -x` say of the MIG instances, by GPU UUID (lower case). */
export interface MigListing {
  listed: Map<string, ListedInstance[]>;
  /** `undefined` for a GPU whose XML block is missing or malformed. */
  xml: Map<string, XmlInstance[] | undefined>;
}

/**
 * Parses `nvidia-smi -L`: `GPU 0: NAME (UUID: GPU-…)` lines, each followed by its indented
 * `MIG 3g.40gb Device 0: (UUID: MIG-…)` lines (`MIG-GPU-…/1/0` before driver 470).
 */
export function parseNvidiaList(stdout: string): Map<string, ListedInstance[]> {
  const gpus = new Map<string, ListedInstance[]>();
  let current: ListedInstance[] | undefined;
  for (const line of stdout.split(/\r?\n/)) {
    const gpu = /^GPU \d+: .*\(UUID: (GPU-[^)\s]+)\)/.exec(line);
    if (gpu !== null) {
      current = [];
      gpus.set((gpu[1] as string).toLowerCase(), current);
      continue;
    }
    const mig = /^\s+MIG (\S+)\s+Device\s+(\d+): \(UUID: (MIG-[^)\s]+)\)/.exec(line);
    if (mig !== null && current !== undefined) {
      current.push({ profile: mig[1] as string, device: Number(mig[2]), uuid: mig[3] as string });
    }
  }
  return gpus;
}

/** The text of the first `<tag>…</tag>` in `xml`, trimmed; `undefined` when there is none. */
function element(xml: string, tag: string): string | undefined {
  return new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml)?.[1]?.trim();
}

/** A figure in MiB as nvidia-smi's XML writes it (`40192 MiB`), in bytes. */
function mibElement(xml: string, tag: string): number | undefined {
  const match = /^(\S+) MiB$/.exec(element(xml, tag) ?? '');
  const mib = match === null ? undefined : parseDecimal(match[1] as string);
  return mib === undefined || mib < 0 ? undefined : Math.round(mib * MIB);
}

/** One `<mig_device>` block; `undefined` when a figure is missing or garbled. */
function xmlInstance(block: string): XmlInstance | undefined {
  const device = parseInteger(element(block, 'index') ?? '');
  const gpuInstance = parseInteger(element(block, 'gpu_instance_id') ?? '');
  const computeInstance = parseInteger(element(block, 'compute_instance_id') ?? '');
  const memory = element(block, 'fb_memory_usage') ?? '';
  const totalBytes = mibElement(memory, 'total');
  if (
    device === undefined ||
    gpuInstance === undefined ||
    computeInstance === undefined ||
    totalBytes === undefined
  ) {
    return undefined;
  }
  const free = mibElement(memory, 'free');
  const freeBytes = free === undefined ? null : Math.min(free, totalBytes);
  return { device, gpuInstance, computeInstance, totalBytes, freeBytes };
}

/**
 * Parses `nvidia-smi -q -x`: for each `<gpu>` its `<uuid>` and the `<mig_device>` blocks of its
 * `<mig_devices>`, with `fb_memory_usage` in MiB. A GPU whose blocks are garbled maps to
 * `undefined`; output that is no `nvidia_smi_log` gives an empty map.
 */
export function parseNvidiaXml(stdout: string): Map<string, XmlInstance[] | undefined> {
  const gpus = new Map<string, XmlInstance[] | undefined>();
  if (!/<nvidia_smi_log>[\s\S]*<\/nvidia_smi_log>/.test(stdout)) return gpus;
  for (const [, block = ''] of stdout.matchAll(/<gpu\b[^>]*>([\s\S]*?)<\/gpu>/g)) {
    const migs = element(block, 'mig_devices');
    const uuid = element(block.replace(/<mig_devices>[\s\S]*?<\/mig_devices>/, ''), 'uuid');
    if (uuid === undefined) continue;
    const blocks = [...(migs ?? '').matchAll(/<mig_device>([\s\S]*?)<\/mig_device>/g)];
    const instances = blocks.map(([, text = '']) => xmlInstance(text));
    gpus.set(
      uuid.toLowerCase(),
      instances.every((instance) => instance !== undefined) ? instances : undefined,
    );
  }
  return gpus;
}

/**
 * The MIG instances of `gpu`, in `nvidia-smi -L` order, with the memory of each from the XML:
 * never the GPU's own. `undefined` when either source does not describe every instance.
 */
export function migInstances(gpu: NvidiaGpu, { listed, xml }: MigListing): RawDevice[] | undefined {
  const key = gpu.uuid?.toLowerCase() ?? '';
  const instances = listed.get(key);
  const described = xml.get(key);
  if (instances === undefined || described === undefined) return undefined;
  const devices: RawDevice[] = [];
  for (const instance of instances) {
    const memory = described.find((candidate) => candidate.device === instance.device);
    if (memory === undefined) return undefined;
    devices.push({
      ordinal: gpu.ordinal,
      uuid: instance.uuid,
      name: `${gpu.name} MIG ${instance.profile}`,
      vendor: 'nvidia',
      totalBytes: memory.totalBytes,
      freeBytes: memory.freeBytes,
      mig: {
        parent: gpu.uuid ?? '',
        gpuInstance: memory.gpuInstance,
        computeInstance: memory.computeInstance,
      },
    });
  }
  return devices;
}
