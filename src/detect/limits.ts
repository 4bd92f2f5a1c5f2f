import { builtin } from '../core/builtins.js';
import { cachePerObject } from '../core/cache.js';
import { logger } from '../core/diagnostics.js';
import { type Reading, smallest } from '../core/reading.js';
import type { LimitSource } from '../core/types.js';
import { type HierarchyReading, readHierarchy } from '../sources/cgroup.js';
import { readText } from '../sources/files.js';
import { heapLimit, meminfoAvailable, nodeLimit, osAvailable } from '../sources/host.js';
import type { CgroupLayout } from '../sources/mounts.js';
import { SLURM_MEMORY_VARIABLES, slurmMemory } from '../sources/slurm.js';
import type { ResolvedDetect } from './detectOptions.js';
import { currentLayout } from './layout.js';

/** One source's reading of a limit. */
export interface Candidate {
  source: LimitSource;
  reading: Reading;
}

/** Everything read about limits and available memory, besides host RAM. */
export interface Limits {
  /** Each source's limit: every located cgroup hierarchy, Slurm, and Node's figure where used. */
  candidates: Candidate[];
  /** The least headroom under any limited cgroup directory above this process. */
  headroom: Reading;
  /** Host available memory from `os.freemem()` or the tree's `/proc/meminfo`. */
  hostAvailable: Reading;
  /** The most the V8 heap may grow to. */
  heapLimit: Reading;
  /** Where the cgroups were found. */
  layout: CgroupLayout;
  /** What each located hierarchy read. */
  hierarchies: HierarchyReading[];
}

const log = logger('detect');
const { resolve, join } = builtin('node:path');
const cacheFor = cachePerObject<Limits>();

/** Whether `fsRoot` is this machine's own root, where Node's and the OS's own figures apply. */
export function isRealRoot(fsRoot: string): boolean {
  return resolve(fsRoot) === resolve('/');
}

/**
 * Reads every limit: the located cgroup hierarchies, Slurm's variables, and Node's own figure
 * where no hierarchy gave a definite one, or a limit file could not be read (it takes the v1 soft
 * limit, which the kernel does not enforce: only where the cgroup files fail is it better than
 * nothing).
 */
export function readLimits(
  { fsRoot, env, probes }: ResolvedDetect,
  layout: CgroupLayout = currentLayout(fsRoot),
): Limits {
  const realRoot = isRealRoot(fsRoot);
  const hierarchies = layout.hierarchies.map((located) => readHierarchy(readText, located));
  // A limit file that cannot be read counts as a source of its own: unknown, so that it is
  // reported, and Node's figure is asked, even where another file of the walk gives a figure.
  const candidates: Candidate[] = hierarchies.flatMap(({ version, limit, unreadLimit }) =>
    [limit, unreadLimit ?? []].flat().map((reading) => ({ source: version, reading })),
  );
  candidates.push({ source: 'slurm', reading: slurmMemory(env) });
  const nodeProbe =
    probes.constrainedMemory ??
    (realRoot && typeof process.constrainedMemory === 'function'
      ? process.constrainedMemory
      : undefined);
  const undecided =
    hierarchies.every(({ limit }) => limit.kind === 'unknown') ||
    hierarchies.some(({ unreadLimit }) => unreadLimit !== null);
  if (nodeProbe !== undefined && undecided) {
    candidates.push({ source: 'node', reading: nodeLimit(nodeProbe) });
  }
  for (const { source, reading } of candidates) {
    if (reading.kind === 'unknown') log('%s limit unknown: %s', source, reading.reason);
  }
  return {
    candidates,
    headroom: smallest(
      hierarchies.map(({ headroom }) => headroom),
      'no limited cgroup',
    ),
    hostAvailable: realRoot
      ? osAvailable(builtin('node:os').freemem)
      : meminfoAvailable(readText, join(fsRoot, 'proc/meminfo')),
    heapLimit: heapLimit(probes.heapSizeLimit ?? undefined),
    layout,
    hierarchies,
  };
}

/** {@link readLimits}, reused for `ttlMs` per root and Slurm variables. */
export function cachedLimits(options: ResolvedDetect): Limits {
  const { fsRoot, env, probes, ttlMs, refresh } = options;
  const key = [fsRoot, ...SLURM_MEMORY_VARIABLES.map((name) => env[name])].join('\0');
  return cacheFor(probes).get(key, ttlMs, refresh, () => ({
    value: readLimits(options),
    ok: true,
  })) as Limits;
}
