// GPU detection: the tools, the cache, the time budget. The package's `detectDeviceMemory`
// (device.ts) loads this module on first use, so that importing the library does not parse it.

import type {
  DeviceMemory,
  DeviceOptions,
  DeviceProbes,
  DeviceSource,
  GraphicsInformationLike,
} from './device.js';
import {
  type Env,
  envValue,
  findExecutable,
  parseGraphics,
  parseNvidiaSmi,
  parseRocmSmi,
  type RawDevice,
  runTool,
  visibleDevices,
} from './deviceSources.js';
import { logger } from './diagnostics.js';
import { assertDeviceProbes, assertEnv, assertPositive, assertTimeout, received } from './parse.js';
import { loadSystemInformation } from './systemInformation.js';
import { TIMED_OUT, within } from './timeout.js';

interface Resolved {
  timeoutMs: number;
  ttlMs: number;
  refresh: boolean;
  env: Env;
  probes: DeviceProbes;
}

/** The devices a source reported, before visibility. */
interface Answer {
  source: DeviceSource;
  devices: RawDevice[];
}

/** What one run of a source gave: devices, or nothing, and whether it hung. */
interface Attempt {
  devices: RawDevice[] | undefined;
  timedOut: boolean;
}

interface CacheEntry {
  /** The last answer; `null` until a source answers. */
  answer: Answer | null;
  /** When it was read (monotonic ms). */
  readAt: number;
  /** Runs in a row that gave no answer, for the backoff. */
  failures: number;
  /** The run in flight, shared by concurrent callers. */
  pending: Promise<void> | undefined;
}

const log = logger('device');

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_TTL_MS = 1000;
const MAX_RETRY_MS = 60_000;
const NVIDIA_SMI_ARGS = [
  '--query-gpu=index,uuid,name,memory.total,memory.free',
  '--format=csv,noheader,nounits',
] as const;
const ROCM_SMI_ARGS = ['--showmeminfo', 'vram', '--json'] as const;

const defaultProbes: DeviceProbes = {};
const cache = new WeakMap<DeviceProbes, Map<string, CacheEntry>>();

const importSystemInformation = (): Promise<GraphicsInformationLike> =>
  loadSystemInformation<GraphicsInformationLike>('graphics');

function resolveOptions(options: DeviceOptions | null | undefined): Resolved {
  if (options === null || options === undefined) options = {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`Expected \`options\` to be an object, got ${received(options)}`);
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
  const refresh = options.refresh ?? false;
  const env = options.env ?? process.env;
  const probes = options.probes ?? defaultProbes;
  assertTimeout('timeoutMs', timeoutMs);
  assertPositive('ttlMs', ttlMs, true);
  if (typeof refresh !== 'boolean') {
    throw new TypeError(`Expected \`refresh\` to be a boolean, got ${received(refresh)}`);
  }
  assertEnv(env);
  assertDeviceProbes('probes', probes);
  return { timeoutMs, ttlMs, refresh, env, probes };
}

/** Runs nvidia-smi or rocm-smi from `env`'s PATH until `deadline`. Never rejects. */
async function queryTool(
  tool: 'nvidia-smi' | 'rocm-smi',
  env: Env,
  deadline: number,
  signal?: AbortSignal,
): Promise<Attempt> {
  const started = performance.now();
  const file = await findExecutable(tool, env);
  if (file === undefined) {
    log('%s: not found on PATH', tool);
    return { devices: undefined, timedOut: false };
  }
  const args = tool === 'nvidia-smi' ? NVIDIA_SMI_ARGS : ROCM_SMI_ARGS;
  const remaining = Math.max(1, deadline - performance.now());
  const result = await runTool(file, args, env, remaining, signal);
  const elapsed = (performance.now() - started).toFixed(2);
  if (result.status !== 'ok') {
    log('%s: %s (%s) after %s ms', tool, result.status, result.detail, elapsed);
    return { devices: undefined, timedOut: result.status === 'timeout' };
  }
  const devices = (tool === 'nvidia-smi' ? parseNvidiaSmi : parseRocmSmi)(result.stdout);
  if (devices === undefined)
    log('%s: no device in its output %o', tool, result.stdout.slice(0, 200));
  else log('%s: %d devices in %s ms', tool, devices.length, elapsed);
  return { devices, timedOut: false };
}

/** systeminformation's `graphics()` until `deadline`. It cannot be killed: past it, it is left behind. */
async function queryGraphics(probes: DeviceProbes, deadline: number): Promise<Attempt> {
  const remaining = deadline - performance.now();
  if (remaining <= 0) return { devices: undefined, timedOut: true };
  const attempt = (async () => {
    try {
      const systemInformation = await (probes.loadSystemInformation ?? importSystemInformation)();
      const devices = parseGraphics(await systemInformation.graphics());
      log('systeminformation: %o devices', devices?.length);
      return devices;
    } catch (error) {
      log('systeminformation: graphics() failed: %s', error);
      return undefined;
    }
  })();
  const devices = await within(attempt, remaining);
  if (devices !== TIMED_OUT) return { devices, timedOut: false };
  log('systeminformation: no answer from graphics() within the time budget');
  return { devices: undefined, timedOut: true };
}

/** A tool's attempt, or no devices when running it threw. */
function settled(tool: string, attempt: Promise<Attempt>): Promise<Attempt> {
  return attempt.catch((error: unknown) => {
    log('%s: %s', tool, error);
    return { devices: undefined, timedOut: false };
  });
}

/**
 * Every source in order, within one time budget: nvidia-smi, rocm-smi (started together, since
 * either may be slow; nvidia-smi's answer wins), then systeminformation, unless a tool hung:
 * `graphics()` runs nvidia-smi itself, synchronously and without a time budget.
 */
async function detectAll({ env, probes, timeoutMs }: Resolved): Promise<Answer | null> {
  const deadline = performance.now() + timeoutMs;
  const rocmNotNeeded = new AbortController();
  // Each settles to an attempt: no rejection is left unhandled while the other runs.
  const rocm = settled('rocm-smi', queryTool('rocm-smi', env, deadline, rocmNotNeeded.signal));
  const nvidia = await settled('nvidia-smi', queryTool('nvidia-smi', env, deadline));
  if (nvidia.devices !== undefined) {
    rocmNotNeeded.abort();
    return { source: 'nvidia-smi', devices: nvidia.devices };
  }
  const amd = await rocm;
  if (amd.devices !== undefined) return { source: 'rocm-smi', devices: amd.devices };
  if (nvidia.timedOut || amd.timedOut) {
    log('a tool hung: systeminformation is not asked, since its graphics() would run nvidia-smi');
    return null;
  }
  const graphics = await queryGraphics(probes, deadline);
  return graphics.devices === undefined
    ? null
    : { source: 'systeminformation', devices: graphics.devices };
}

/** Runs the source that answered last again, for its free memory. */
async function rerun(answer: Answer, { env, probes, timeoutMs }: Resolved): Promise<Answer | null> {
  const deadline = performance.now() + timeoutMs;
  const { source } = answer;
  const attempt =
    source === 'systeminformation'
      ? await queryGraphics(probes, deadline)
      : await queryTool(source, env, deadline);
  return attempt.devices === undefined ? null : { source, devices: attempt.devices };
}

async function update(entry: CacheEntry, options: Resolved): Promise<void> {
  const started = performance.now();
  const previous = entry.answer;
  let answer: Answer | null = null;
  try {
    answer =
      previous === null || options.refresh
        ? await detectAll(options)
        : await rerun(previous, options);
  } catch (error) {
    log('detection failed: %s', error);
  }
  entry.failures = answer === null ? entry.failures + 1 : 0;
  if (answer === null && previous !== null) {
    // The devices stay known; what is free now is not.
    log('%s gave no answer: keeping its devices, free memory unknown', previous.source);
    answer = {
      source: previous.source,
      devices: previous.devices.map((device) => ({ ...device, freeBytes: null })),
    };
  }
  entry.answer = answer;
  entry.readAt = performance.now();
  log(
    '%s in %s ms',
    answer === null
      ? 'no source answered'
      : `${answer.devices.length} devices from ${answer.source}`,
    (entry.readAt - started).toFixed(2),
  );
}

/** Whether the cached answer may be used without running a source. */
function isFresh(entry: CacheEntry, ttlMs: number, now: number): boolean {
  const { answer, failures } = entry;
  // systeminformation without free figures has nothing to refresh: its answer holds.
  if (
    failures === 0 &&
    answer?.source === 'systeminformation' &&
    answer.devices.every((device) => device.freeBytes === null)
  ) {
    return true;
  }
  const wait =
    failures === 0 ? ttlMs : Math.min(ttlMs * 2 ** (failures - 1), Math.max(ttlMs, MAX_RETRY_MS));
  return now - entry.readAt < wait;
}

function entryFor({ env, probes }: Resolved): CacheEntry {
  let entries = cache.get(probes);
  if (entries === undefined) {
    entries = new Map();
    cache.set(probes, entries);
  }
  const key = `${envValue(env, 'PATH')}\0${envValue(env, 'PATHEXT')}`;
  let entry = entries.get(key);
  if (entry === undefined) {
    if (entries.size >= 64) entries.clear();
    entry = { answer: null, readAt: Number.NEGATIVE_INFINITY, failures: 0, pending: undefined };
    entries.set(key, entry);
  }
  return entry;
}

/** Detects the GPUs: `detectDeviceMemory` of the package loads this module on first use. */
export async function detectDeviceMemory(options?: DeviceOptions | null): Promise<DeviceMemory[]> {
  const resolved = resolveOptions(options);
  const entry = entryFor(resolved);
  if (
    entry.pending === undefined &&
    (resolved.refresh || !isFresh(entry, resolved.ttlMs, performance.now()))
  ) {
    entry.pending = update(entry, resolved).finally(() => {
      entry.pending = undefined;
    });
  }
  if (entry.pending !== undefined) await entry.pending;
  return entry.answer === null
    ? []
    : visibleDevices(entry.answer.devices, entry.answer.source, resolved.env);
}
