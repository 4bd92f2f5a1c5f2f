// Fake GPU machines, written from the public formats of nvidia-smi (`--query-gpu` CSV, `-L`,
// `-q -x` XML) and rocm-smi (`--showmeminfo vram --json`): shell scripts that answer each
// command line as the real tool does, first (and alone) on the PATH given through `env`.
import { join } from 'node:path';
import { getAdaptiveMemoryThreshold } from '../src/index.js';
import { graphicsProbes, MIB, makeBin, writeScript } from './helpers.js';

/** A MIG instance: its profile, MIG device number, instance ids, UUID, and fb memory in MiB. */
export interface FakeInstance {
  profile: string;
  device: number;
  gpuInstance: number;
  computeInstance: number;
  uuid: string;
  totalMib: number;
  freeMib: number;
}

/** A GPU as the fake nvidia-smi reports it; `totalMib: null` prints `[N/A]` (unified memory). */
export interface FakeGpu {
  uuid: string;
  name: string;
  totalMib: number | null;
  freeMib: number | null;
  /** `mig.mode.current`: `Enabled`, `Disabled`, or `[N/A]` where MIG is unsupported. */
  mig: 'Enabled' | 'Disabled' | '[N/A]';
  instances?: FakeInstance[];
}

const figure = (mib: number | null): string => (mib === null ? '[N/A]' : String(mib));

/** `nvidia-smi --query-gpu=index,uuid,name,memory.total,memory.free[,mig.mode.current] --format=csv,noheader,nounits`. */
export function queryCsv(gpus: readonly FakeGpu[], withMig = true): string {
  return gpus
    .map((gpu, index) => {
      const fields = [index, gpu.uuid, gpu.name, figure(gpu.totalMib), figure(gpu.freeMib)];
      return (withMig ? [...fields, gpu.mig] : fields).join(', ');
    })
    .join('\n');
}

/** `nvidia-smi -L`; `legacy` writes MIG UUIDs as drivers before 470 did: `MIG-GPU-<uuid>/<gi>/<ci>`. */
export function listText(gpus: readonly FakeGpu[], legacy = false): string {
  return gpus
    .flatMap((gpu, index) => [
      `GPU ${index}: ${gpu.name} (UUID: ${gpu.uuid})`,
      ...(gpu.instances ?? []).map((instance) => {
        const uuid = legacy
          ? `MIG-${gpu.uuid}/${instance.gpuInstance}/${instance.computeInstance}`
          : instance.uuid;
        return `  MIG ${instance.profile.padEnd(9)} Device ${String(instance.device).padStart(2)}: (UUID: ${uuid})`;
      }),
    ])
    .join('\n');
}

function migDeviceXml(instance: FakeInstance): string {
  const used = instance.totalMib - instance.freeMib;
  return `			<mig_device>
				<index>${instance.device}</index>
				<gpu_instance_id>${instance.gpuInstance}</gpu_instance_id>
				<compute_instance_id>${instance.computeInstance}</compute_instance_id>
				<device_attributes>
					<shared>
						<multiprocessor_count>60</multiprocessor_count>
					</shared>
				</device_attributes>
				<fb_memory_usage>
					<total>${instance.totalMib} MiB</total>
					<reserved>0 MiB</reserved>
					<used>${used} MiB</used>
					<free>${instance.freeMib} MiB</free>
				</fb_memory_usage>
				<bar1_memory_usage>
					<total>32767 MiB</total>
					<used>0 MiB</used>
					<free>32767 MiB</free>
				</bar1_memory_usage>
			</mig_device>`;
}

/** `nvidia-smi -q -x`: the parts of the XML log that MIG detection reads, among others. */
export function xmlLog(gpus: readonly FakeGpu[]): string {
  const blocks = gpus.map((gpu, index) => {
    const instances = gpu.instances ?? [];
    const migs =
      gpu.mig === 'Enabled' ? `\n${instances.map(migDeviceXml).join('\n')}\n\t\t` : 'None';
    const total = gpu.totalMib === null ? 'N/A' : `${gpu.totalMib} MiB`;
    const current = gpu.mig === '[N/A]' ? 'N/A' : gpu.mig;
    return `	<gpu id="00000000:${(0x18 + index * 0x10).toString(16).toUpperCase()}:00.0">
		<product_name>${gpu.name}</product_name>
		<mig_mode>
			<current_mig>${current}</current_mig>
			<pending_mig>${current}</pending_mig>
		</mig_mode>
		<mig_devices>${migs}</mig_devices>
		<uuid>${gpu.uuid}</uuid>
		<minor_number>${index}</minor_number>
		<fb_memory_usage>
			<total>${total}</total>
			<reserved>${gpu.totalMib === null ? 'N/A' : '512 MiB'}</reserved>
		</fb_memory_usage>
	</gpu>`;
  });
  return `<?xml version="1.0" ?>
<!DOCTYPE nvidia_smi_log SYSTEM "nvsmi_device_v12.dtd">
<nvidia_smi_log>
	<timestamp>Tue Mar  3 10:00:00 2026</timestamp>
	<driver_version>570.86.15</driver_version>
	<cuda_version>12.8</cuda_version>
	<attached_gpus>${gpus.length}</attached_gpus>
${blocks.join('\n')}
</nvidia_smi_log>`;
}

/** What each command line of the fake nvidia-smi does: a shell snippet that prints or fails. */
export interface NvidiaAnswers {
  query: string;
  legacyQuery?: string;
  list?: string;
  xml?: string;
}

const printing = (text: string): string => `cat <<'EOF'\n${text}\nEOF`;

/** The script of an nvidia-smi that appends each command line to `log`, then answers it. */
export function nvidiaScript(answers: NvidiaAnswers, log: string): string {
  const reject = 'echo \'Field "mig.mode.current" is not a valid field to query.\'\nexit 2';
  return `echo "$*" >> '${log}'
case "$*" in
*mig.mode.current*)
${answers.query}
;;
--query-gpu=*)
${answers.legacyQuery ?? reject}
;;
-L)
${answers.list ?? 'exit 1'}
;;
"-q -x")
${answers.xml ?? 'exit 1'}
;;
*) exit 2 ;;
esac`;
}

/** A PATH holding only nvidia-smi, answering as `gpus` would; `<bin>/log` lists its runs. */
export function nvidiaMachine(
  gpus: readonly FakeGpu[],
  change: Partial<NvidiaAnswers> = {},
): { bin: string; log: string } {
  const bin = makeBin();
  const log = join(bin, 'log');
  const answers: NvidiaAnswers = {
    query: printing(queryCsv(gpus)),
    legacyQuery: printing(queryCsv(gpus, false)),
    list: printing(listText(gpus)),
    xml: printing(xmlLog(gpus)),
    ...change,
  };
  writeScript(join(bin, 'nvidia-smi'), nvidiaScript(answers, log));
  return { bin, log };
}

/** The output of a fake tool as a shell snippet. */
export { printing };

export const H100 = 'NVIDIA H100 80GB HBM3';
export const H100_UUID = 'GPU-5d3c0f6a-7b2e-4c1d-9a8f-0123456789ab';
export const H100_BIS_UUID = 'GPU-77aa0000-1111-4c1d-9a8f-0123456789ab';

/** An H100 in MIG mode, split into two 3g.40gb slices, and a second H100 used whole. */
export const MIG_NODE: readonly FakeGpu[] = [
  {
    uuid: H100_UUID,
    name: H100,
    totalMib: 81559,
    freeMib: 81000,
    mig: 'Enabled',
    instances: [
      {
        profile: '3g.40gb',
        device: 0,
        gpuInstance: 1,
        computeInstance: 0,
        uuid: 'MIG-11c2f8b6-6d5c-5a5e-9b1e-7d2f2e6f0a01',
        totalMib: 40192,
        freeMib: 40000,
      },
      {
        profile: '3g.40gb',
        device: 1,
        gpuInstance: 2,
        computeInstance: 0,
        uuid: 'MIG-22d3a9c7-7e6d-5b6f-8c2f-8e3f3f7a1b02',
        totalMib: 40192,
        freeMib: 30000,
      },
    ],
  },
  { uuid: H100_BIS_UUID, name: H100, totalMib: 81559, freeMib: 80435, mig: 'Disabled' },
];

/** A node with an A100 80GB (first on the PCI bus) and an L4. */
export const MIXED_NODE: readonly FakeGpu[] = [
  {
    uuid: 'GPU-a1000000-0000-4000-8000-000000000000',
    name: 'NVIDIA A100-SXM4-80GB',
    totalMib: 81920,
    freeMib: 81000,
    mig: 'Disabled',
  },
  {
    uuid: 'GPU-14000000-0000-4000-8000-000000000000',
    name: 'NVIDIA L4',
    totalMib: 23034,
    freeMib: 22000,
    mig: '[N/A]',
  },
];

/** A GB10 (DGX Spark): its GPU allocates from the host's memory. */
export const GB10: readonly FakeGpu[] = [
  {
    uuid: 'GPU-6b100000-0000-4000-8000-000000000000',
    name: 'NVIDIA GB10',
    totalMib: null,
    freeMib: null,
    mig: '[N/A]',
  },
];

const ROCM_CARDS = {
  card0: { 'VRAM Total Memory (B)': '17163091968', 'VRAM Total Used Memory (B)': '1073741824' },
  card1: { 'VRAM Total Memory (B)': '17163091968', 'VRAM Total Used Memory (B)': '268435456' },
  card2: { 'VRAM Total Memory (B)': '67108864', 'VRAM Total Used Memory (B)': '16777216' },
};

/** `rocm-smi --showmeminfo vram --json` of two RX 6800s (16 GiB) and a desktop CPU's 64 MiB iGPU. */
export const ROCM_TWO_CARDS_AND_IGPU: string = JSON.stringify(ROCM_CARDS);

/** The unique IDs `rocm-smi --showuniqueid` prints for them (`hex()` of the ID: no leading zeros). */
export const ROCM_UNIQUE_IDS = ['0x592c190172fd5d40', '0xc6f220c172dc76bb', 'N/A'] as const;

/** `rocm-smi --showmeminfo vram --showuniqueid --json` of the same machine. */
export const ROCM_TWO_CARDS_AND_IGPU_IDS: string = JSON.stringify(
  Object.fromEntries(
    Object.entries(ROCM_CARDS).map(([card, memory], i) => [
      card,
      { ...memory, 'Unique ID': ROCM_UNIQUE_IDS[i] },
    ]),
  ),
);

/**
 * The script of a rocm-smi that appends each command line to `log`, then answers
 * `--showuniqueid` with `withIds` (a shell snippet) and the memory query alone with `memoryOnly`.
 */
export function rocmScript(withIds: string, memoryOnly: string, log: string): string {
  return `echo "$*" >> '${log}'
case "$*" in
*--showuniqueid*)
${withIds}
;;
"--showmeminfo vram --json")
${memoryOnly}
;;
*) exit 2 ;;
esac`;
}

/** The MiB a threshold for `device` was taken from, on the A100 + L4 node with `env` added. */
export async function budgetMib(
  device: number,
  env: Record<string, string> = {},
  basis: 'total' | 'available' = 'total',
): Promise<number> {
  const { bin } = nvidiaMachine(MIXED_NODE);
  const { info } = await getAdaptiveMemoryThreshold({
    device,
    basis,
    env: { PATH: bin, ...env },
    deviceProbes: graphicsProbes(),
    refresh: true,
  });
  return (info.totalMemoryGb * 1024 ** 3) / MIB;
}
