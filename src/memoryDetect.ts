import { builtin } from './builtins.js';
import { type CgroupLayout, locateCgroups, readCgroups } from './cgroup.js';
import { logger } from './diagnostics.js';
import { readText } from './files.js';
import { checkDetectOptions, parseInteger } from './parse.js';
import { loadSystemInformation } from './systemInformation.js';
import { TIMED_OUT, within } from './timeout.js';

/** The source that produced the host's RAM figure. */
export type DetectionMethod = 'systeminformation' | 'os';

/** Where a memory limit below host RAM came from. */
export type LimitSource = 'cgroup-v2' | 'cgroup-v1' | 'slurm' | 'node';

/** How much memory this process may use, and where each figure came from. */
export interface MemoryReport {
  /** Physical RAM, from systeminformation or `os.totalmem()`; `null` when neither answered. */
  hostTotalBytes: number | null;
  /** Which source actually produced `hostTotalBytes`; `null` when neither answered. */
  detectionMethod: DetectionMethod | null;
  /** The tightest container or scheduler limit below `hostTotalBytes`, else `null`. */
  limitBytes: number | null;
  /** Where `limitBytes` came from. */
  limitSource: LimitSource | null;
  /** The file or variable that set `limitBytes`: a cgroup file path or a Slurm variable. */
  limitOrigin: string | null;
  /** `min(hostTotalBytes, limitBytes)`: what this process may use. */
  totalBytes: number;
  /** Usable now: the smallest of host available memory, the headroom of every limited cgroup above this process, and `totalBytes`. */
  availableBytes: number | null;
}

/** The part of systeminformation this library uses. */
export interface SystemInformationLike {
  /** Resolves with an object whose `total` is the RAM in bytes. */
  mem(): Promise<unknown>;
}

/** Where host RAM and Node's own limit are read from; replace them to test failures. */
export interface HostProbes {
  /** Loads systeminformation. Default: a dynamic `import('systeminformation')`. */
  loadSystemInformation?: (() => Promise<SystemInformationLike>) | null;
  /** The fallback. Default: `os.totalmem`. */
  totalmem?: (() => number) | null;
  /** Node's reading of the cgroup limit, used only where no cgroup hierarchy is found. Default: `process.constrainedMemory`, on the real root only. */
  constrainedMemory?: (() => number) | null;
}

/** Options of every detecting function. `null`, for any of them, means "not given". */
export interface DetectOptions {
  /** Where `/proc` and `/sys` are read from. Default: `'/'`. */
  fsRoot?: string | null;
  /** The environment holding Slurm's variables. Default: `process.env`. */
  env?: Record<string, string | undefined> | null;
  /** Time budget for systeminformation before `os.totalmem()` answers, in ms. Default: 1000. */
  timeoutMs?: number | null;
  /** How long limits and available memory are reused before they are read again, and the first delay before a failed systeminformation is asked again, in ms. Default: 1000. */
  ttlMs?: number | null;
  /** Read everything again, bypassing the cache. Default: `false`. */
  refresh?: boolean | null;
  /** Sources of host RAM. Each distinct object has its own cache. Default: systeminformation and `os.totalmem`. */
  probes?: HostProbes | null;
}

interface HostMemory {
  bytes: number;
  method: DetectionMethod;
  /** systeminformation's `available` when it answered: on macOS `os.freemem()` counts free pages only. */
  availableBytes: number | null;
}

/** What is known of host RAM for one probes object, and when to ask systeminformation again. */
interface HostEntry {
  /** The last answer; `null` before any, or when every source failed (never kept as final). */
  memory: HostMemory | null;
  /** Consecutive failed or timed-out systeminformation attempts. */
  failures: number;
  /** Monotonic time from which systeminformation is asked again. */
  retryAt: number;
  /** The detection in flight, shared by concurrent callers. */
  pending: Promise<HostMemory | null> | undefined;
}

interface Candidate {
  bytes: number;
  source: LimitSource;
  origin: string;
}

interface Limits {
  candidates: Candidate[];
  /** The least headroom under any limited cgroup directory above this process. */
  headroomBytes: number | null;
  /** Host available memory from `os.freemem()` or the tree's `/proc/meminfo`. */
  hostAvailableBytes: number | null;
}

const log = logger('detect');

const { join, resolve } = builtin('node:path');

const DEFAULT_TIMEOUT_MS = 1000;
const DEFAULT_TTL_MS = 1000;
const MAX_RETRY_MS = 60_000;
const UINT64_MAX = 2 ** 64;
// systeminformation asks PowerShell on Windows, where os.freemem() is the available figure anyway.
const REFRESH_AVAILABLE = process.platform !== 'win32';

const defaultProbes: HostProbes = {};
const hostEntries = new WeakMap<HostProbes, HostEntry>();
const hostSyncCache = new WeakMap<HostProbes, HostMemory>();
const limitsCache = new WeakMap<HostProbes, Map<string, { readAt: number; limits: Limits }>>();

/** A monotonic clock in ms: a stepped wall clock neither freezes nor floods the caches. */
const now = (): number => performance.now();

const importSystemInformation = (): Promise<SystemInformationLike> =>
  loadSystemInformation<SystemInformationLike>('memory');

function isPositiveFinite(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}

/** Host RAM from `os.totalmem()`, or `null` when it gives no positive finite number. */
function hostFromOs(probes: HostProbes): HostMemory | null {
  try {
    const bytes = (probes.totalmem ?? builtin('node:os').totalmem)();
    if (isPositiveFinite(bytes)) return { bytes, method: 'os', availableBytes: null };
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
): Promise<HostMemory | undefined> {
  const attempt = (async (): Promise<HostMemory | undefined> => {
    try {
      const systemInformation = await (probes.loadSystemInformation ?? importSystemInformation)();
      const memory = (await systemInformation.mem()) as { total?: unknown; available?: unknown };
      const total = memory?.total;
      if (isPositiveFinite(total)) {
        const available = memory.available;
        return {
          bytes: total,
          method: 'systeminformation',
          availableBytes: isPositiveFinite(available) ? available : null,
        };
      }
      log('systeminformation gave total %o', total);
    } catch (error) {
      log('systeminformation failed: %s', error);
    }
    return undefined;
  })();
  const answer = await within(attempt, timeoutMs);
  if (answer !== TIMED_OUT) return answer;
  log('systeminformation gave no answer within %d ms', timeoutMs);
  return undefined;
}

/**
 * Asks systeminformation, else `os.totalmem()`, and records when to ask again: after `ttlMs`
 * for fresh available memory, or, while systeminformation keeps failing, after a delay that
 * doubles from `ttlMs` up to a minute.
 */
async function detectHost(
  entry: HostEntry,
  probes: HostProbes,
  timeoutMs: number,
  ttlMs: number,
): Promise<HostMemory | null> {
  const started = now();
  const answer = await hostFromSystemInformation(probes, timeoutMs);
  if (answer !== undefined) {
    entry.failures = 0;
    entry.retryAt = now() + ttlMs;
    entry.memory = answer;
  } else {
    entry.failures += 1;
    entry.retryAt = now() + Math.min(MAX_RETRY_MS, ttlMs * 2 ** (entry.failures - 1));
    // Host RAM does not change: a known systeminformation total outlives a failed refresh.
    entry.memory =
      entry.memory?.method === 'systeminformation'
        ? { ...entry.memory, availableBytes: null }
        : hostFromOs(probes);
  }
  const host = entry.memory;
  log(
    'host %o bytes from %s in %s ms',
    host?.bytes,
    host?.method ?? 'nothing',
    (now() - started).toFixed(2),
  );
  return host;
}

/** Host RAM for `probes`, shared by concurrent callers; asks again only when it is due. */
function hostMemory(
  probes: HostProbes,
  timeoutMs: number,
  ttlMs: number,
  refresh: boolean,
): HostMemory | null | Promise<HostMemory | null> {
  let entry = hostEntries.get(probes);
  if (entry === undefined) {
    entry = { memory: null, failures: 0, retryAt: 0, pending: undefined };
    hostEntries.set(probes, entry);
  }
  if (entry.pending !== undefined) return entry.pending;
  const { memory } = entry;
  const due = refresh || now() >= entry.retryAt;
  const settled = !refresh && memory?.method === 'systeminformation' && !REFRESH_AVAILABLE;
  if (!due || settled) return memory ?? hostFromOs(probes); // a null is never kept: os is cheap
  const current = entry;
  current.pending = detectHost(current, probes, timeoutMs, ttlMs).finally(() => {
    current.pending = undefined;
  });
  return current.pending;
}

/** The Slurm variables that size a job's memory on this node. */
const SLURM_MEMORY_VARIABLES = [
  'SLURM_MEM_PER_NODE',
  'SLURM_MEM_PER_CPU',
  'SLURM_CPUS_ON_NODE',
  'SLURM_MEM_PER_GPU',
  'SLURM_GPUS_ON_NODE',
] as const;

/**
 * Slurm's allocation on this node (MiB): `SLURM_MEM_PER_NODE`, or `SLURM_MEM_PER_CPU` ×
 * `SLURM_CPUS_ON_NODE`, or `SLURM_MEM_PER_GPU` × `SLURM_GPUS_ON_NODE`.
 */
function slurmLimit(env: Record<string, string | undefined>): Candidate | undefined {
  const forms: [string, string | undefined][] = [
    ['SLURM_MEM_PER_NODE', undefined],
    ['SLURM_MEM_PER_CPU', 'SLURM_CPUS_ON_NODE'],
    ['SLURM_MEM_PER_GPU', 'SLURM_GPUS_ON_NODE'],
  ];
  for (const [perUnit, units] of forms) {
    const text = env[perUnit];
    if (text === undefined) continue;
    const countText = units === undefined ? '1' : env[units];
    if (countText === undefined) continue;
    const mib = parseInteger(text);
    const count = parseInteger(countText);
    const bytes = mib === undefined || count === undefined ? undefined : mib * count * 1024 ** 2;
    // Past 2 ** 53 a figure is no exact number of bytes: no limit, as cgroup's sentinels.
    if (bytes !== undefined && Number.isSafeInteger(bytes)) {
      const origin = units === undefined ? perUnit : `${perUnit}*${units}`;
      return { bytes, source: 'slurm', origin };
    }
    log('ignoring %s=%o %s', perUnit, text, units === undefined ? '' : `${units}=${countText}`);
  }
  return undefined;
}

/** Node's own reading of the process's cgroup; 0 and UINT64 max mean no limit. */
function nodeLimit(probe: () => number): Candidate | undefined {
  let bytes: unknown;
  try {
    bytes = probe();
  } catch (error) {
    log('process.constrainedMemory() threw: %s', error);
  }
  if (!isPositiveFinite(bytes) || bytes >= UINT64_MAX) return undefined;
  return { bytes, source: 'node', origin: 'process.constrainedMemory()' };
}

/** Available host memory: `os.freemem()` on the real root (MemAvailable on Linux), else MemAvailable of the tree. */
function hostAvailable(fsRoot: string, realRoot: boolean): number | null {
  if (realRoot) {
    const free = builtin('node:os').freemem();
    return isPositiveFinite(free) ? free : null;
  }
  const meminfo = readText(resolve(fsRoot, 'proc/meminfo')) ?? '';
  const kib = /^MemAvailable:\s+(\d+) kB$/m.exec(meminfo)?.[1];
  return kib === undefined ? null : Number(kib) * 1024;
}

function readLimits(
  fsRoot: string,
  env: Record<string, string | undefined>,
  probes: HostProbes,
  layout: CgroupLayout = locateCgroups(readText, fsRoot),
): Limits {
  const realRoot = resolve(fsRoot) === resolve('/');
  const cgroups = readCgroups(readText, layout);
  const candidates: Candidate[] = cgroups.limits.map((limit) => ({
    bytes: limit.bytes,
    source: limit.version,
    origin: limit.file,
  }));
  const slurm = slurmLimit(env);
  if (slurm !== undefined) candidates.push(slurm);
  // libuv's figure takes the v1 soft limit, which the kernel does not enforce: only where the
  // cgroup files could not be located is it better than nothing.
  const nodeProbe =
    probes.constrainedMemory ??
    (realRoot && typeof process.constrainedMemory === 'function'
      ? process.constrainedMemory
      : undefined);
  const node = nodeProbe !== undefined && !cgroups.resolved ? nodeLimit(nodeProbe) : undefined;
  if (node !== undefined) candidates.push(node);
  return {
    candidates,
    headroomBytes: cgroups.headroomBytes,
    hostAvailableBytes: hostAvailable(fsRoot, realRoot),
  };
}

function cachedLimits(
  fsRoot: string,
  env: Record<string, string | undefined>,
  probes: HostProbes,
  ttlMs: number,
  refresh: boolean,
): Limits {
  let cache = limitsCache.get(probes);
  if (cache === undefined) {
    cache = new Map();
    limitsCache.set(probes, cache);
  }
  const key = [fsRoot, ...SLURM_MEMORY_VARIABLES.map((name) => env[name])].join('\0');
  const readAt = now();
  const cached = cache.get(key);
  if (!refresh && cached !== undefined && readAt - cached.readAt < ttlMs) return cached.limits;
  const limits = readLimits(fsRoot, env, probes);
  if (cache.size >= 64) cache.clear();
  cache.set(key, { readAt, limits });
  return limits;
}

/**
 * Combines host RAM with the limits: the tightest limit below host RAM wins; with host RAM
 * unknown, the tightest limit is the total. `null` when nothing at all is known.
 */
function report(host: HostMemory | null, limits: Limits): MemoryReport | null {
  let best: Candidate | undefined;
  for (const candidate of limits.candidates) {
    if (
      candidate.bytes > 0 &&
      (host === null || candidate.bytes < host.bytes) &&
      (best === undefined || candidate.bytes < best.bytes)
    ) {
      best = candidate;
    }
  }
  const totalBytes = best?.bytes ?? host?.bytes;
  if (totalBytes === undefined) return null;
  const known = [host?.availableBytes ?? limits.hostAvailableBytes, limits.headroomBytes].filter(
    (value) => value !== null,
  );
  const availableBytes = known.length === 0 ? null : Math.min(totalBytes, ...known);
  if (best !== undefined) log('limit %d bytes from %s (%s)', best.bytes, best.source, best.origin);
  return {
    hostTotalBytes: host?.bytes ?? null,
    detectionMethod: host?.method ?? null,
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
 * Host RAM is kept once systeminformation gave it; limits and available memory are read at most
 * once per `ttlMs`. A failed or timed-out systeminformation is asked again after `ttlMs`, then
 * after twice as long, up to once a minute. Concurrent calls share one detection. When host RAM
 * cannot be read but a limit can, the limit is the total.
 *
 * @param options - Where and how to read; see {@link DetectOptions}.
 * @returns The report, or `null` only when neither host RAM nor any limit is known. A failing source never rejects.
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
  const host = await hostMemory(probes, timeoutMs, ttlMs, refresh);
  return report(host, cachedLimits(fsRoot, env, probes, ttlMs, refresh));
}

/**
 * Like {@link detectMemory}, synchronously: host RAM comes from `os.totalmem()` only, since
 * systeminformation is async.
 *
 * @param options - Where and how to read; `timeoutMs` does not apply.
 * @returns The report, or `null` when neither `os.totalmem()` nor any limit gives a figure.
 * @throws TypeError or RangeError, for an option of the wrong type or range.
 * @example
 * ```ts
 * const report = detectMemorySync();
 * report?.detectionMethod; // 'os'
 * ```
 */
export function detectMemorySync(options?: DetectOptions | null): MemoryReport | null {
  const { fsRoot, env, ttlMs, refresh, probes } = resolveOptions(options);
  const host = (refresh ? undefined : hostSyncCache.get(probes)) ?? hostFromOs(probes);
  if (host !== null) hostSyncCache.set(probes, host); // a null is never kept
  return report(host, cachedLimits(fsRoot, env, probes, ttlMs, refresh));
}

/**
 * The memory this process may use, in bytes: `totalBytes` of {@link detectMemory}. The
 * original's function, now capped by container and scheduler limits.
 *
 * @param options - Where and how to read; see {@link DetectOptions}.
 * @returns Bytes, or `null` when neither host RAM nor any limit is known.
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

/** What one poll of a watch read: the report, and where the cgroups were found. */
export interface Polled {
  report: MemoryReport | null;
  layout: CgroupLayout;
}

/**
 * Starts the polls of a watch. The options are checked at once, before any I/O; host RAM is
 * detected once. Each poll re-reads `/proc/self/cgroup` and the located cgroup files, and the
 * mount table only when the process has moved to another cgroup.
 */
export function memoryPoller(options: DetectOptions): Promise<() => Polled> {
  const { fsRoot, env, timeoutMs, ttlMs, refresh, probes } = resolveOptions(options);
  return (async () => {
    const host = await hostMemory(probes, timeoutMs, ttlMs, refresh);
    // systeminformation's available figure would be stale: each poll takes the current one.
    const fixed = host === null ? null : { ...host, availableBytes: null };
    let layout = locateCgroups(readText, fsRoot);
    return (): Polled => {
      if (readText(join(fsRoot, 'proc/self/cgroup')) !== layout.procSelfCgroup) {
        layout = locateCgroups(readText, fsRoot);
      }
      return { report: report(fixed, readLimits(fsRoot, env, probes, layout)), layout };
    };
  })();
}
