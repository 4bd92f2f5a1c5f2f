// MIG: a GPU in MIG mode is not a device a process can use; its instances are. Fake nvidia-smi
// scripts (test/gpuFixtures.ts) answer the query, `-L` and `-q -x` as a real one does.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { detectDeviceMemory, getAdaptiveMemoryThreshold } from '../src/index.js';
import { parseNvidiaList, parseNvidiaXml } from '../src/sources/gpu/nvidiaMig.js';
import {
  H100,
  H100_BIS_UUID,
  H100_UUID,
  listText,
  MIG_NODE,
  nvidiaMachine,
  printing,
  queryCsv,
  xmlLog,
} from './gpuFixtures.js';
import { captureWarnings, graphicsProbes, MIB } from './helpers.js';

const posix = it.skipIf(process.platform === 'win32');
const [SLICE_A, SLICE_B] = MIG_NODE[0]?.instances ?? [];

/** The devices listed on a PATH `bin`, with `env` added, detected afresh. */
async function listed(bin: string, env: Record<string, string> = {}, timeoutMs = 5000) {
  return detectDeviceMemory({
    env: { PATH: bin, ...env },
    probes: graphicsProbes(),
    refresh: true,
    timeoutMs,
  });
}

const runs = (log: string): string[] => readFileSync(log, 'utf8').trim().split('\n');

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a GPU in MIG mode', () => {
  posix("lists its instances, each with its own memory, never the GPU's", async () => {
    const { bin, log } = nvidiaMachine(MIG_NODE);
    expect(await listed(bin)).toEqual([
      {
        index: 0,
        uuid: SLICE_A?.uuid,
        name: `${H100} MIG 3g.40gb`,
        vendor: 'nvidia',
        totalBytes: 40192 * MIB,
        freeBytes: 40000 * MIB,
        unifiedMemory: false,
        source: 'nvidia-smi',
      },
      expect.objectContaining({ index: 1, uuid: SLICE_B?.uuid, freeBytes: 30000 * MIB }),
      expect.objectContaining({ index: 2, uuid: H100_BIS_UUID, totalBytes: 81559 * MIB }),
    ]);
    // The query first, then -L (the UUIDs), then -q -x (the memory).
    expect(runs(log)).toEqual([
      '--query-gpu=index,uuid,name,memory.total,memory.free,mig.mode.current --format=csv,noheader,nounits',
      '-L',
      '-q -x',
    ]);
  });

  posix('budgets a slice: 75% of 40192 MiB, not of 81,559 MiB', async () => {
    const { bin } = nvidiaMachine(MIG_NODE);
    const { thresholdBytes, info } = await getAdaptiveMemoryThreshold({
      device: 0,
      env: { PATH: bin },
      deviceProbes: graphicsProbes(),
      refresh: true,
    });
    expect(thresholdBytes).toBe(Math.floor(40192 * MIB * 0.75));
    expect(info).toMatchObject({ detectionMethod: 'nvidia-smi', totalMemoryGb: 40192 / 1024 });
  });

  posix('takes MIG-<uuid> and MIG-GPU-<uuid>/<gi>/<ci> in CUDA_VISIBLE_DEVICES', async () => {
    const { bin } = nvidiaMachine(MIG_NODE);
    const uuids = async (visible: string) =>
      (await listed(bin, { CUDA_VISIBLE_DEVICES: visible })).map((d) => `${d.index}:${d.uuid}`);
    expect(await uuids(SLICE_B?.uuid ?? '')).toEqual([`0:${SLICE_B?.uuid}`]);
    expect(await uuids(`MIG-${H100_UUID}/2/0`)).toEqual([`0:${SLICE_B?.uuid}`]);
    expect(await uuids(`MIG-${H100_UUID}/1/0,${H100_BIS_UUID}`)).toEqual([
      `0:${SLICE_A?.uuid}`,
      `1:${H100_BIS_UUID}`,
    ]);
    // An index or a GPU- UUID names a whole GPU: in MIG mode, its instances.
    expect(await uuids('0')).toEqual([`0:${SLICE_A?.uuid}`, `1:${SLICE_B?.uuid}`]);
    expect(await uuids('1')).toEqual([`0:${H100_BIS_UUID}`]);
    expect(await uuids(H100_UUID.slice(0, 12))).toEqual([
      `0:${SLICE_A?.uuid}`,
      `1:${SLICE_B?.uuid}`,
    ]);
  });

  posix('hides every device for a MIG UUID that matches no instance, as CUDA does', async () => {
    const { bin } = nvidiaMachine(MIG_NODE);
    const env = { PATH: bin, CUDA_VISIBLE_DEVICES: 'MIG-ffffffff-0000-0000-0000-000000000000' };
    expect(await listed(bin, env)).toEqual([]);
    expect(await listed(bin, { CUDA_VISIBLE_DEVICES: `MIG-${H100_UUID}/9/0` })).toEqual([]);
    await expect(
      getAdaptiveMemoryThreshold({ device: 0, env, deviceProbes: graphicsProbes() }),
    ).rejects.toThrow(/got 0; no GPU is visible$/);
  });

  posix('reads the MIG-GPU-<uuid>/<gi>/<ci> UUIDs of drivers before 470', async () => {
    const { bin } = nvidiaMachine(MIG_NODE, { list: printing(listText(MIG_NODE, true)) });
    const devices = await listed(bin, { CUDA_VISIBLE_DEVICES: `MIG-${H100_UUID}/2/0` });
    expect(devices.map((device) => [device.uuid, device.totalBytes])).toEqual([
      [`MIG-${H100_UUID}/2/0`, 40192 * MIB],
    ]);
  });

  posix('lists no instance of a GPU in MIG mode with none made', async () => {
    const bare = MIG_NODE.map((gpu) => ({ ...gpu, instances: [] }));
    const warnings = captureWarnings();
    const { bin } = nvidiaMachine(bare);
    expect((await listed(bin)).map((device) => device.uuid)).toEqual([H100_BIS_UUID]);
    expect(warnings).toEqual([]);
  });
});

describe('when nvidia-smi cannot describe the instances', () => {
  const faults: [string, Parameters<typeof nvidiaMachine>[1]][] = [
    ['-q -x fails', { xml: 'echo "Unable to determine the device handle" >&2\nexit 15' }],
    ['-q -x prints malformed XML', { xml: printing(xmlLog(MIG_NODE).slice(0, 900)) }],
    [
      '-q -x leaves out an instance',
      { xml: printing(xmlLog(MIG_NODE).replace(/<mig_device>[\s\S]*?<\/mig_device>/, '')) },
    ],
    ['-q -x garbles a figure', { xml: printing(xmlLog(MIG_NODE).replace('40192 MiB', 'N/A')) }],
    ['-L fails', { list: 'exit 4' }],
  ];

  for (const [fault, change] of faults) {
    posix(`lists nothing for that GPU, with a warning: ${fault}`, async () => {
      const warnings = captureWarnings();
      const { bin } = nvidiaMachine(MIG_NODE, change);
      const devices = await listed(bin);
      expect(devices.map((device) => [device.index, device.uuid])).toEqual([[0, H100_BIS_UUID]]);
      expect(warnings).toEqual([
        {
          code: 'NLSQ_MEMORY_DEVICE_MIG_UNKNOWN',
          message: `GPU 0 (${H100}) is in MIG mode, but nvidia-smi -L and -q -x did not describe them: none of its instances is listed`,
        },
      ]);
    });
  }

  posix('kills -q -x at the time budget, and lists nothing for that GPU', async () => {
    const warnings = captureWarnings();
    const probes = graphicsProbes({ controllers: [{ vendor: 'NVIDIA', model: 'H100', vram: 1 }] });
    const { bin } = nvidiaMachine(MIG_NODE, { xml: 'sleep 30' });
    const started = performance.now();
    const devices = await detectDeviceMemory({
      env: { PATH: bin },
      probes,
      refresh: true,
      timeoutMs: 400,
    });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(devices.map((device) => device.uuid)).toEqual([H100_BIS_UUID]);
    expect(warnings.map((warning) => warning.code)).toEqual(['NLSQ_MEMORY_DEVICE_MIG_UNKNOWN']);
    expect(warnings[0]?.message).toContain('gave no answer within the time budget');
    expect(probes.calls.graphics).toBe(0);
  });
});

describe('a driver older than 450', () => {
  posix('is asked again without mig.mode.current, and read as before', async () => {
    const gpus = MIG_NODE.slice(1);
    const { bin, log } = nvidiaMachine(gpus, {
      query: 'echo \'Field "mig.mode.current" is not a valid field to query.\'\nexit 2',
    });
    expect(await listed(bin)).toMatchObject([{ index: 0, totalBytes: 81559 * MIB }]);
    expect(runs(log)).toEqual([
      '--query-gpu=index,uuid,name,memory.total,memory.free,mig.mode.current --format=csv,noheader,nounits',
      '--query-gpu=index,uuid,name,memory.total,memory.free --format=csv,noheader,nounits',
    ]);
  });

  posix('is not asked again for another failure', async () => {
    const { bin, log } = nvidiaMachine(MIG_NODE, {
      query:
        'echo "NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver."\nexit 9',
    });
    expect(await listed(bin)).toEqual([]);
    expect(runs(log)).toHaveLength(1);
  });
});

describe('the formats', () => {
  it('reads -L lines of both driver generations, and ignores others', () => {
    const text = `${listText(MIG_NODE)}\n${listText(MIG_NODE, true).split('\n')[1]}\nNo devices were found`;
    const gpus = parseNvidiaList(text);
    expect([...gpus.keys()]).toEqual([H100_UUID.toLowerCase(), H100_BIS_UUID.toLowerCase()]);
    expect(gpus.get(H100_UUID.toLowerCase())).toEqual([
      { profile: '3g.40gb', device: 0, uuid: SLICE_A?.uuid },
      { profile: '3g.40gb', device: 1, uuid: SLICE_B?.uuid },
    ]);
    // A MIG line before any GPU line belongs to none.
    expect(parseNvidiaList('  MIG 1g.10gb Device 0: (UUID: MIG-x)').size).toBe(0);
  });

  it('reads each MIG device of the XML log, and gives undefined for a garbled one', () => {
    const gpus = parseNvidiaXml(xmlLog(MIG_NODE));
    expect(gpus.get(H100_UUID.toLowerCase())).toEqual([
      {
        device: 0,
        gpuInstance: 1,
        computeInstance: 0,
        totalBytes: 40192 * MIB,
        freeBytes: 40000 * MIB,
      },
      {
        device: 1,
        gpuInstance: 2,
        computeInstance: 0,
        totalBytes: 40192 * MIB,
        freeBytes: 30000 * MIB,
      },
    ]);
    expect(gpus.get(H100_BIS_UUID.toLowerCase())).toEqual([]);
    const garbled = xmlLog(MIG_NODE).replace('<gpu_instance_id>2<', '<gpu_instance_id>two<');
    expect(parseNvidiaXml(garbled).get(H100_UUID.toLowerCase())).toBeUndefined();
    expect(parseNvidiaXml('<nvidia_smi_log>').size).toBe(0);
    expect(parseNvidiaXml('').size).toBe(0);
  });

  it('caps free memory at the total, and takes a missing free figure as unknown', () => {
    const xml = xmlLog(MIG_NODE)
      .replace('<free>40000 MiB</free>', '<free>50000 MiB</free>')
      .replace('<free>30000 MiB</free>', '');
    const [first, second] = parseNvidiaXml(xml).get(H100_UUID.toLowerCase()) ?? [];
    expect([first?.freeBytes, second?.freeBytes]).toEqual([40192 * MIB, null]);
  });

  it('writes the query as nvidia-smi prints it', () => {
    expect(queryCsv(MIG_NODE)).toBe(
      `0, ${H100_UUID}, ${H100}, 81559, 81000, Enabled\n1, ${H100_BIS_UUID}, ${H100}, 81559, 80435, Disabled`,
    );
  });
});
