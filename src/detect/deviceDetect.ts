// GPU detection: the tools, the cache, the time budget. `detectDeviceMemory` (devices.ts) loads
// this module on first use, so that importing the library does not parse it.

import { cachePerObject, type Outcome } from '../core/cache.js';
import { now } from '../core/clock.js';
import { TIMED_OUT, within } from '../core/deadline.js';
import { logger, warnOnce } from '../core/diagnostics.js';
import type { DeviceMemory, DeviceSource } from '../core/types.js';
import { type GraphicsInformationLike, parseGraphics } from '../sources/gpu/graphics.js';
import type { RawDevice } from '../sources/gpu/rawDevice.js';
import { parseRocmSmi, ROCM_SMI_ARGS, ROCM_SMI_MEMORY_ARGS } from '../sources/gpu/rocmSmi.js';
import { envValue, findExecutable, runUntil } from '../sources/gpu/tools.js';
import type { Env } from '../sources/slurm.js';
import { loadSystemInformation } from '../sources/systemInformation.js';
import type { DeviceOptions, DeviceProbes } from './deviceOptions.js';
import { queryNvidia } from './nvidiaDetect.js';
import { visibleDevices } from './visibility.js';

interface Resolved {
  timeoutMs: number;
  ttlMs: number;
  refresh: boolean;
  env: Env;
  probes: DeviceProbes;
  askSystemInformation: boolean;
}

/** The devices a source reported, before visibility. */
interface Answer {
  source: DeviceSource;
  devices: RawDevice[];
}

/** What one run of a source gave: devices, or nothing, and whether it hung (and where). */
interface Attempt {
  devices: RawDevice[] | undefined;
  timedOut: boolean;
  /** Whether it was finding the tool on PATH that hung, not the tool. */
  looking?: boolean;
}

const log = logger('device');
const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_TTL_MS = 1000;
const defaultProbes: DeviceProbes = {};
const cacheFor = cachePerObject<Answer | null>();
const NOTHING: Attempt = { devices: undefined, timedOut: false };
const HUNG: Attempt = { devices: undefined, timedOut: true };
const HUNG_LOOKING: Attempt = { devices: undefined, timedOut: true, looking: true };

const importSystemInformation = (): Promise<GraphicsInformationLike> =>
  loadSystemInformation<GraphicsInformationLike>('graphics');

/**
 * rocm-smi (`file`) until `deadline` or `cancel`: its devices, `undefined`, or TIMED_OUT. Asked
 * again without the unique IDs when a run with them fails.
 */
async function queryRocm(
  file: string,
  env: Env,
  deadline: number,
  cancel?: AbortSignal,
): Promise<RawDevice[] | undefined | typeof TIMED_OUT> {
  let result = await runUntil(file, ROCM_SMI_ARGS, env, deadline, cancel);
  if (result !== TIMED_OUT && result.status === 'failed') {
    log('rocm-smi: %s (%s); asking without --showuniqueid', result.status, result.detail);
    result = await runUntil(file, ROCM_SMI_MEMORY_ARGS, env, deadline, cancel);
  }
  if (result === TIMED_OUT) return TIMED_OUT;
  if (result.status === 'ok') return parseRocmSmi(result.stdout);
  log('rocm-smi: %s (%s)', result.status, result.detail);
  return undefined;
}

/** Finds and runs nvidia-smi or rocm-smi from `env`'s PATH until `deadline`. Never rejects. */
async function queryTool(
  tool: 'nvidia-smi' | 'rocm-smi',
  env: Env,
  deadline: number,
  cancel?: AbortSignal,
): Promise<Attempt> {
  const started = now();
  const remaining = (): number => deadline - now();
  // A PATH entry on a hung network mount must not hang detection: the lookup is in the budget.
  const file = await within((signal) => findExecutable(tool, env, signal), remaining(), cancel);
  if (file === TIMED_OUT) {
    log('%s: no lookup within the time budget', tool);
    return cancel?.aborted === true ? NOTHING : HUNG_LOOKING;
  }
  if (file === undefined) {
    log('%s: not found on PATH', tool);
    return NOTHING;
  }
  const devices =
    tool === 'nvidia-smi'
      ? await queryNvidia(file, env, deadline)
      : await queryRocm(file, env, deadline, cancel);
  const elapsed = (now() - started).toFixed(2);
  if (devices === TIMED_OUT) {
    log('%s: stopped after %s ms', tool, elapsed);
    return cancel?.aborted === true ? NOTHING : HUNG;
  }
  if (devices === undefined) log('%s: no device after %s ms', tool, elapsed);
  else log('%s: %d devices in %s ms', tool, devices.length, elapsed);
  return { devices, timedOut: false };
}

/** systeminformation's `graphics()` until `deadline`. It cannot be killed: past it, it is left behind. */
async function queryGraphics(probes: DeviceProbes, deadline: number): Promise<Attempt> {
  const devices = await within(async () => {
    const systemInformation = await (probes.loadSystemInformation ?? importSystemInformation)();
    return parseGraphics(await systemInformation.graphics());
  }, deadline - now());
  if (devices === TIMED_OUT) {
    log('systeminformation: graphics() failed or gave no answer within the time budget');
    return deadline <= now() ? HUNG : NOTHING;
  }
  log('systeminformation: %o devices', devices?.length);
  return { devices, timedOut: false };
}

/**
 * Every source in order, within one time budget: nvidia-smi, rocm-smi (started together, since
 * either may be slow; nvidia-smi's answer wins), then systeminformation, unless a tool hung:
 * `graphics()` runs nvidia-smi itself, synchronously and without a time budget.
 */
async function detectAll({
  env,
  probes,
  timeoutMs,
  askSystemInformation,
}: Resolved): Promise<Answer | null> {
  const deadline = now() + timeoutMs;
  const rocmNotNeeded = new AbortController();
  const rocm = queryTool('rocm-smi', env, deadline, rocmNotNeeded.signal);
  const nvidia = await queryTool('nvidia-smi', env, deadline);
  if (nvidia.devices !== undefined) {
    rocmNotNeeded.abort();
    return { source: 'nvidia-smi', devices: nvidia.devices };
  }
  const amd = await rocm;
  if (amd.devices !== undefined) return { source: 'rocm-smi', devices: amd.devices };
  if (nvidia.timedOut || amd.timedOut) {
    const hung = [
      [nvidia, 'nvidia-smi'],
      [amd, 'rocm-smi'],
    ] as const;
    const what = hung
      .filter(([attempt]) => attempt.timedOut)
      .map(([attempt, tool]) => (attempt.looking === true ? `finding ${tool} on PATH` : tool));
    const looking = nvidia.looking === true || amd.looking === true;
    warnOnce(
      'NLSQ_MEMORY_DEVICE_TIMEOUT',
      `${what.join(' and ')} gave no answer within its time budget, ${timeoutMs} ms: no GPU is listed, though one may be there; ${looking ? 'a PATH folder is on a mount that does not answer' : 'a GPU without the persistence daemon can take 30 s to answer'}`,
    );
    return null;
  }
  if (!askSystemInformation) return null;
  const graphics = await queryGraphics(probes, deadline);
  return graphics.devices === undefined
    ? null
    : { source: 'systeminformation', devices: graphics.devices };
}

/** Runs the source that answered last again, for its free memory. */
async function rerun(answer: Answer, { env, probes, timeoutMs }: Resolved): Promise<Answer | null> {
  const deadline = now() + timeoutMs;
  const { source } = answer;
  const attempt =
    source === 'systeminformation'
      ? await queryGraphics(probes, deadline)
      : await queryTool(source, env, deadline);
  return attempt.devices === undefined ? null : { source, devices: attempt.devices };
}

/** One detection: all sources the first time, else the one that answered; the devices outlive a failure. */
async function update(
  previous: Answer | null | undefined,
  options: Resolved,
): Promise<Outcome<Answer | null>> {
  const started = now();
  const last = previous ?? null;
  let answer =
    last === null || options.refresh ? await detectAll(options) : await rerun(last, options);
  const ok = answer !== null;
  if (answer === null && last !== null) {
    log('%s gave no answer: keeping its devices, free memory unknown', last.source);
    answer = {
      source: last.source,
      devices: last.devices.map((device) => ({ ...device, freeBytes: null })),
    };
  }
  log(
    '%s in %s ms',
    answer === null
      ? 'no source answered'
      : `${answer.devices.length} devices from ${answer.source}`,
    (now() - started).toFixed(2),
  );
  // systeminformation without free figures has nothing to refresh: its answer holds.
  const keep =
    ok &&
    answer?.source === 'systeminformation' &&
    answer.devices.every((device) => device.freeBytes === null);
  return { value: answer, ok, keep };
}

/** Detects the GPUs, with options already checked. */
export async function detectDevices(options: DeviceOptions): Promise<DeviceMemory[]> {
  const resolved: Resolved = {
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    ttlMs: options.ttlMs ?? DEFAULT_TTL_MS,
    refresh: options.refresh ?? false,
    env: options.env ?? process.env,
    probes: options.probes ?? defaultProbes,
    askSystemInformation: options.askSystemInformation ?? true,
  };
  const { env, askSystemInformation } = resolved;
  const key = `${envValue(env, 'PATH')}\0${envValue(env, 'PATHEXT')}\0${askSystemInformation}`;
  const answer = await cacheFor(resolved.probes).get(
    key,
    resolved.ttlMs,
    resolved.refresh,
    (previous) => update(previous, resolved),
  );
  return answer === null ? [] : visibleDevices(answer.devices, answer.source, resolved.env);
}
