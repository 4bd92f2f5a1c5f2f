// nvidia-smi's runs: the query, asked again without `mig.mode.current` for an old driver, then,
// for GPUs in MIG mode, `nvidia-smi -L` (the instances' UUIDs) and `nvidia-smi -q -x` (their
// memory), in that order, within the same time budget.
import { TIMED_OUT } from '../core/deadline.js';
import { logger, warnOnce } from '../core/diagnostics.js';
import {
  type MigListing,
  migInstances,
  NVIDIA_SMI_LIST_ARGS,
  NVIDIA_SMI_XML_ARGS,
  parseNvidiaList,
  parseNvidiaXml,
} from '../sources/gpu/nvidiaMig.js';
import {
  NVIDIA_SMI_ARGS,
  NVIDIA_SMI_LEGACY_ARGS,
  type NvidiaGpu,
  parseNvidiaSmi,
  rejectsMigField,
} from '../sources/gpu/nvidiaSmi.js';
import type { RawDevice } from '../sources/gpu/rawDevice.js';
import { runUntil, type ToolResult } from '../sources/gpu/tools.js';
import type { Env } from '../sources/slurm.js';

const log = logger('device');

/** The output of a run that exited 0; `undefined` (logged) for any other end. */
function stdoutOf(what: string, result: ToolResult): string | undefined {
  if (result.status === 'ok') return result.stdout;
  log('%s: %s (%s)', what, result.status, result.detail);
  return undefined;
}

/** What `nvidia-smi -L` and `nvidia-smi -q -x` say, run one after the other; TIMED_OUT past `deadline`. */
async function migListing(
  file: string,
  env: Env,
  deadline: number,
): Promise<MigListing | typeof TIMED_OUT> {
  const list = await runUntil(file, NVIDIA_SMI_LIST_ARGS, env, deadline);
  if (list === TIMED_OUT) return TIMED_OUT;
  const xml = await runUntil(file, NVIDIA_SMI_XML_ARGS, env, deadline);
  if (xml === TIMED_OUT) return TIMED_OUT;
  return {
    listed: parseNvidiaList(stdoutOf('nvidia-smi -L', list) ?? ''),
    xml: parseNvidiaXml(stdoutOf('nvidia-smi -q -x', xml) ?? ''),
  };
}

/** The devices of `gpus`: each GPU in MIG mode replaced by its instances, or by none, with a warning. */
function withInstances(
  gpus: readonly NvidiaGpu[],
  listing: MigListing | typeof TIMED_OUT,
): RawDevice[] {
  return gpus.flatMap((gpu) => {
    if (!gpu.migEnabled) return [gpu];
    const instances = listing === TIMED_OUT ? undefined : migInstances(gpu, listing);
    if (instances !== undefined) return instances;
    const why =
      listing === TIMED_OUT ? 'gave no answer within the time budget' : 'did not describe them';
    warnOnce(
      'NLSQ_MEMORY_DEVICE_MIG_UNKNOWN',
      `GPU ${gpu.ordinal} (${gpu.name}) is in MIG mode, but nvidia-smi -L and -q -x ${why}: none of its instances is listed`,
    );
    return [];
  });
}

/**
 * Runs nvidia-smi (`file`) until `deadline`: the devices it lists, MIG instances in place of
 * their GPU; `undefined` when it failed or listed none; TIMED_OUT when its query hung.
 */
export async function queryNvidia(
  file: string,
  env: Env,
  deadline: number,
): Promise<RawDevice[] | undefined | typeof TIMED_OUT> {
  let withMig = true;
  let result = await runUntil(file, NVIDIA_SMI_ARGS, env, deadline);
  if (result !== TIMED_OUT && result.status === 'failed' && rejectsMigField(result.detail)) {
    log('nvidia-smi: the driver rejects mig.mode.current; asking without it');
    withMig = false;
    result = await runUntil(file, NVIDIA_SMI_LEGACY_ARGS, env, deadline);
  }
  if (result === TIMED_OUT) return TIMED_OUT;
  const stdout = stdoutOf('nvidia-smi', result);
  const gpus = stdout === undefined ? undefined : parseNvidiaSmi(stdout, withMig);
  if (gpus === undefined || !gpus.some((gpu) => gpu.migEnabled)) return gpus;
  return withInstances(gpus, await migListing(file, env, deadline));
}
