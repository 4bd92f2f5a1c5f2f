import type * as Fs from 'node:fs';
import { createRequire } from 'node:module';
import type * as Os from 'node:os';
import { resolve } from 'node:path';
import { readCgroupLimits } from './cgroup.js';
import { logger } from './diagnostics.js';
import { checkDetectOptions, parseInteger } from './parse.js';

/** The source that produced the host's RAM figure. */
export type DetectionMethod = 'systeminformation' | 'os';

/** Where a memory limit below host RAM came from. */
export type LimitSource = 'cgroup-v2' | 'cgroup-v1' | 'slurm' | 'node';

/** How much memory this process may use, and where each figure came from. */
export interface MemoryReport {
  /** Physical RAM, from systeminformation or `os.totalmem()`. */
  hostTotalBytes: number;
  /** Which source actually produced `hostTotalBytes`. */
  detectionMethod: DetectionMethod;
  /** The tightest container or scheduler limit below `hostTotalBytes`, else `null`. */
  limitBytes: number | null;
  /** Where `limitBytes` came from. */
  limitSource: LimitSource | null;
  /** The file or variable that set `limitBytes`: a cgroup file path or a Slurm variable. */
  limitOrigin: string | null;
  /** `min(hostTotalBytes, limitBytes)`: what this process may use. */
  totalBytes: number;
  /** Usable now: host MemAvailable, and the limit minus the working set of the limiting cgroup. */
  availableBytes: number | null;
}

/** The part of systeminformation this library uses. */
export interface SystemInformationLike {
  /** Resolves with an object whose `total` is the RAM in bytes. */
  mem(): Promise<unknown>;
}

/** Where host RAM is read from; replace them to test failures. */
export interface HostProbes {
  /** Loads systeminformation. Default: a dynamic `import('systeminformation')`. */
  loadSystemInformation?: (() => Promise<SystemInformationLike>) | null;
  /** The fallback. Default: `os.totalmem`. */
  totalmem?: (() => number) | null;
}

/** Options of every detecting function. `null`, for any of them, means "not given". */
export interface DetectOptions {
  /** Where `/proc` and `/sys` are read from. Default: `'/'`. */
  fsRoot?: string | null;
  /** The environment holding Slurm's variables. Default: `process.env`. */
  env?: Record<string, string | undefined> | null;
  /** Time budget for systeminformation before `os.totalmem()` answers, in ms. Default: 1000. */
  timeoutMs?: number | null;
  /** How long limits and available memory are reused before they are read again, in ms. Default: 1000. */
  ttlMs?: number | null;
  /** Read everything again, bypassing the cache. Default: `false`. */
  refresh?: boolean | null;
  /** Sources of host RAM. Each distinct object has its own cache. Default: systeminformation and `os.totalmem`. */
  probes?: HostProbes | null;
}

interface HostMemory {
  bytes: number;
  method: DetectionMethod;
}

interface Candidate {
  bytes: number;
  source: LimitSource;
  origin: string;
  workingSetBytes: number | null;
}

interface Limits {
  candidates: Candidate[];
  hostAvailableBytes: number | null;
}

const log = logger('detect');

// Required, not imported: a CommonJS builtin loads without the cost of an ES module facade (see bench/).
const require = createRequire(import.meta.url);
const { readFileSync } = require('node:fs') as typeof Fs;
const os = require('node:os') as typeof Os;

const DEFAULT_TIMEOUT_MS = 1000;
const DEFAULT_TTL_MS = 1000;
const UINT64_MAX = 2 ** 64;

const defaultProbes: HostProbes = {};
const hostCache = new WeakMap<HostProbes, Promise<HostMemory | null>>();
const hostSyncCache = new WeakMap<HostProbes, HostMemory | null>();
const limitsCache = new Map<string, { readAt: number; limits: Limits }>();

async function importSystemInformation(): Promise<SystemInformationLike> {
  const module = await import('systeminformation');
  return module.default ?? module;
}

function isPositiveFinite(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

/** Host RAM from `os.totalmem()`, or `null` when it gives no positive finite number. */
function hostFromOs(probes: HostProbes): HostMemory | null {
  try {
    const bytes = (probes.totalmem ?? os.totalmem)();
    if (isPositiveFinite(bytes)) return { bytes, method: 'os' };
    log('os.totalmem() gave %o', bytes);
  } catch (error) {
    log('os.totalmem() threw: %s', error);
  }
  return null;
}

/** Host RAM from systeminformation within `timeoutMs`, else `undefined`. Never rejects. */
async function hostFromSystemInformation(
  probes: HostProbes,
  timeoutMs: number,
): Promise<number | undefined> {
  const attempt = (async () => {
    try {
      const systemInformation = await (probes.loadSystemInformation ?? importSystemInformation)();
      const memory = await systemInformation.mem();
      const total = (memory as { total?: unknown } | null)?.total;
      if (isPositiveFinite(total)) return total;
      log('systeminformation gave total %o', total);
    } catch (error) {
      log('systeminformation failed: %s', error);
    }
    return undefined;
  })();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolveTimeout) => {
    timer = setTimeout(() => {
      log('systeminformation gave no answer within %d ms', timeoutMs);
      resolveTimeout(undefined);
    }, timeoutMs);
  });
  try {
    return await Promise.race([attempt, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function detectHost(probes: HostProbes, timeoutMs: number): Promise<HostMemory | null> {
  const started = performance.now();
  const bytes = await hostFromSystemInformation(probes, timeoutMs);
  const host: HostMemory | null =
    bytes === undefined ? hostFromOs(probes) : { bytes, method: 'systeminformation' };
  log(
    'host %o bytes from %s in %s ms',
    host?.bytes,
    host?.method ?? 'nothing',
    (performance.now() - started).toFixed(2),
  );
  return host;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Slurm's allocation on this node: `SLURM_MEM_PER_NODE`, or `SLURM_MEM_PER_CPU` × `SLURM_CPUS_ON_NODE` (MiB). */
function slurmLimit(env: Record<string, string | undefined>): Candidate | undefined {
  const grant = (mib: number, origin: string): Candidate => ({
    bytes: mib * 1024 ** 2,
    source: 'slurm',
    origin,
    workingSetBytes: null,
  });
  const perNode = env.SLURM_MEM_PER_NODE;
  if (perNode !== undefined) {
    const mib = parseInteger(perNode);
    if (mib !== undefined) return grant(mib, 'SLURM_MEM_PER_NODE');
    log('ignoring SLURM_MEM_PER_NODE=%o', perNode);
  }
  const perCpu = env.SLURM_MEM_PER_CPU;
  const cpus = env.SLURM_CPUS_ON_NODE;
  if (perCpu === undefined || cpus === undefined) return undefined;
  const perCpuMib = parseInteger(perCpu);
  const cpuCount = parseInteger(cpus);
  if (perCpuMib !== undefined && cpuCount !== undefined) {
    return grant(perCpuMib * cpuCount, 'SLURM_MEM_PER_CPU*SLURM_CPUS_ON_NODE');
  }
  log('ignoring SLURM_MEM_PER_CPU=%o SLURM_CPUS_ON_NODE=%o', perCpu, cpus);
  return undefined;
}

/** Node's own reading of the process's cgroup; 0 and UINT64 max mean no limit. */
function nodeLimit(): Candidate | undefined {
  const bytes =
    typeof process.constrainedMemory === 'function' ? process.constrainedMemory() : undefined;
  if (!isPositiveFinite(bytes) || bytes >= UINT64_MAX) return undefined;
  return { bytes, source: 'node', origin: 'process.constrainedMemory()', workingSetBytes: null };
}

/** Available host memory: `os.freemem()` on the real root (MemAvailable on Linux), else MemAvailable of the tree. */
function hostAvailable(fsRoot: string, realRoot: boolean): number | null {
  if (realRoot) {
    const free = os.freemem();
    return isPositiveFinite(free) ? free : null;
  }
  const meminfo = readText(resolve(fsRoot, 'proc/meminfo')) ?? '';
  const kib = /^MemAvailable:\s+(\d+) kB$/m.exec(meminfo)?.[1];
  return kib === undefined ? null : Number(kib) * 1024;
}

function readLimits(fsRoot: string, env: Record<string, string | undefined>): Limits {
  const realRoot = resolve(fsRoot) === resolve('/');
  const candidates: Candidate[] = readCgroupLimits(readText, fsRoot).map((limit) => ({
    bytes: limit.bytes,
    source: limit.version,
    origin: limit.file,
    workingSetBytes: limit.workingSetBytes,
  }));
  const slurm = slurmLimit(env);
  if (slurm !== undefined) candidates.push(slurm);
  const node = realRoot ? nodeLimit() : undefined;
  if (node !== undefined) candidates.push(node);
  return { candidates, hostAvailableBytes: hostAvailable(fsRoot, realRoot) };
}

function cachedLimits(
  fsRoot: string,
  env: Record<string, string | undefined>,
  ttlMs: number,
  refresh: boolean,
): Limits {
  const key = `${fsRoot}\0${env.SLURM_MEM_PER_NODE}\0${env.SLURM_MEM_PER_CPU}\0${env.SLURM_CPUS_ON_NODE}`;
  const now = Date.now();
  const cached = limitsCache.get(key);
  if (!refresh && cached !== undefined && now - cached.readAt < ttlMs) return cached.limits;
  const limits = readLimits(fsRoot, env);
  if (limitsCache.size >= 64) limitsCache.clear();
  limitsCache.set(key, { readAt: now, limits });
  return limits;
}

/** Combines host RAM with the limits: the tightest limit below host RAM wins. */
function report(host: HostMemory, limits: Limits): MemoryReport {
  let best: Candidate | undefined;
  for (const candidate of limits.candidates) {
    if (
      candidate.bytes > 0 &&
      candidate.bytes < host.bytes &&
      (best === undefined || candidate.bytes < best.bytes)
    ) {
      best = candidate;
    }
  }
  const totalBytes = best?.bytes ?? host.bytes;
  const underLimit =
    best?.workingSetBytes == null ? null : Math.max(0, best.bytes - best.workingSetBytes);
  const known = [limits.hostAvailableBytes, underLimit].filter((value) => value !== null);
  const availableBytes = known.length === 0 ? null : Math.min(totalBytes, ...known);
  if (best !== undefined) log('limit %d bytes from %s (%s)', best.bytes, best.source, best.origin);
  return {
    hostTotalBytes: host.bytes,
    detectionMethod: host.method,
    limitBytes: best?.bytes ?? null,
    limitSource: best?.source ?? null,
    limitOrigin: best?.origin ?? null,
    totalBytes,
    availableBytes,
  };
}

interface ResolvedOptions {
  fsRoot: string;
  env: Record<string, string | undefined>;
  timeoutMs: number;
  ttlMs: number;
  refresh: boolean;
  probes: HostProbes;
}

function resolveOptions(options: DetectOptions | null | undefined): ResolvedOptions {
  const {
    fsRoot = '/',
    env = process.env,
    timeoutMs = DEFAULT_TIMEOUT_MS,
    ttlMs = DEFAULT_TTL_MS,
    refresh = false,
    probes = defaultProbes,
  } = checkDetectOptions(options);
  return { fsRoot, env, timeoutMs, ttlMs, refresh, probes };
}

/**
 * Detects how much memory this process may use: host RAM (systeminformation, else `os.totalmem()`)
 * capped by cgroup v2/v1 and Slurm limits.
 *
 * Host RAM is read once per process; limits and available memory at most once per `ttlMs`.
 * Concurrent calls share one detection.
 *
 * @param options - Where and how to read; see {@link DetectOptions}.
 * @returns The report, or `null` only when host RAM cannot be read at all. A failing source never rejects.
 * @throws TypeError or RangeError, for an option of the wrong type or range.
 * @example
 * ```ts
 * const report = await detectMemory();
 * report?.totalBytes; // what this process may use, in bytes
 * report?.limitSource; // 'cgroup-v2' inside a limited pod, null on a laptop
 * ```
 */
export async function detectMemory(options?: DetectOptions | null): Promise<MemoryReport | null> {
  const { fsRoot, env, timeoutMs, ttlMs, refresh, probes } = resolveOptions(options);
  let host = refresh ? undefined : hostCache.get(probes);
  if (host === undefined) {
    host = detectHost(probes, timeoutMs);
    hostCache.set(probes, host);
  }
  const hostMemory = await host;
  return hostMemory === null ? null : report(hostMemory, cachedLimits(fsRoot, env, ttlMs, refresh));
}

/**
 * Like {@link detectMemory}, synchronously: host RAM comes from `os.totalmem()` only, since
 * systeminformation is async.
 *
 * @param options - Where and how to read; `timeoutMs` does not apply.
 * @returns The report, or `null` when `os.totalmem()` gives no positive number.
 * @throws TypeError or RangeError, for an option of the wrong type or range.
 * @example
 * ```ts
 * const report = detectMemorySync();
 * report?.detectionMethod; // 'os'
 * ```
 */
export function detectMemorySync(options?: DetectOptions | null): MemoryReport | null {
  const { fsRoot, env, ttlMs, refresh, probes } = resolveOptions(options);
  let host = refresh ? undefined : hostSyncCache.get(probes);
  if (host === undefined) {
    host = hostFromOs(probes);
    hostSyncCache.set(probes, host);
  }
  return host === null ? null : report(host, cachedLimits(fsRoot, env, ttlMs, refresh));
}

/**
 * The memory this process may use, in bytes: `totalBytes` of {@link detectMemory}. The
 * original's function, now capped by container and scheduler limits.
 *
 * @param options - Where and how to read; see {@link DetectOptions}.
 * @returns Bytes, or `null` when host RAM cannot be read.
 * @throws TypeError or RangeError, for an option of the wrong type or range.
 * @example
 * ```ts
 * const bytes = await detectTotalSystemMemory();
 * ```
 */
export async function detectTotalSystemMemory(
  options?: DetectOptions | null,
): Promise<number | null> {
  return (await detectMemory(options))?.totalBytes ?? null;
}
