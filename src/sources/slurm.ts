import { parseInteger } from '../core/numbers.js';
import { fromNumber, type Reading, unknown, unlimited } from '../core/reading.js';

/** An environment: `process.env` or a replacement for it. */
export type Env = Record<string, string | undefined>;

/** The Slurm variables that size a job's memory on this node, in the order they are tried. */
const MEMORY_FORMS: readonly (readonly [string, string | undefined])[] = [
  ['SLURM_MEM_PER_NODE', undefined],
  ['SLURM_MEM_PER_CPU', 'SLURM_CPUS_ON_NODE'],
  ['SLURM_MEM_PER_GPU', 'SLURM_GPUS_ON_NODE'],
];

/** Every variable {@link slurmMemory} reads: a cache of its answer is keyed by their values. */
export const SLURM_MEMORY_VARIABLES: readonly string[] = MEMORY_FORMS.flat().filter(
  (name): name is string => name !== undefined,
);

/**
 * Slurm's allocation on this node: `SLURM_MEM_PER_NODE`, or `SLURM_MEM_PER_CPU` ×
 * `SLURM_CPUS_ON_NODE`, or `SLURM_MEM_PER_GPU` × `SLURM_GPUS_ON_NODE` (MiB), the first form that
 * is whole. 0 is all the node's memory: no limit; so is a figure past 2 ** 53. No variable: no
 * limit; only malformed ones (or a figure per CPU or GPU without their count): unknown.
 */
export function slurmMemory(env: Env): Reading {
  let malformed: string | undefined;
  for (const [perUnit, units] of MEMORY_FORMS) {
    const text = env[perUnit];
    if (text === undefined) continue;
    const countText = units === undefined ? '1' : env[units];
    const mib = parseInteger(text);
    const count = countText === undefined ? undefined : parseInteger(countText);
    const origin = units === undefined ? perUnit : `${perUnit}*${units}`;
    // 0 CPUs or GPUs is no count Slurm gives: a figure per unit times 0 is no limit that can be told.
    if (mib !== undefined && count !== undefined && count > 0) {
      return fromNumber(mib * count * 1024 ** 2, origin, true);
    }
    // A figure per CPU or GPU without the count of them is a limit that cannot be told.
    const times =
      units === undefined
        ? ''
        : ` × ${countText === undefined ? `no ${units}` : JSON.stringify(countText)}`;
    malformed ??= `${origin} is ${JSON.stringify(text)}${times}`;
  }
  return malformed === undefined ? unlimited('no Slurm memory variable') : unknown(malformed);
}

/** The number of Slurm tasks on this node, and the variable that gave it. */
export interface SlurmTasks {
  /** Tasks of this job on this node, at least 1. */
  tasks: number;
  /** `SLURM_NTASKS_PER_NODE`, `SLURM_TASKS_PER_NODE`, or `SLURM_NTASKS` where that is malformed. */
  origin: 'SLURM_NTASKS_PER_NODE' | 'SLURM_TASKS_PER_NODE' | 'SLURM_NTASKS';
  /** Whether this node could not be identified, so that the largest count of any node was taken. */
  guessed: boolean;
  /** `SLURM_TASKS_PER_NODE` as given, where it is malformed: the count is the job's, or 1. */
  malformed?: string;
}

/** A non-negative safe integer written in decimal digits, else `undefined`. */
function count(text: string | undefined): number | undefined {
  const value = text === undefined ? undefined : parseInteger(text);
  return value !== undefined && Number.isSafeInteger(value) ? value : undefined;
}

/** A positive safe integer written in decimal digits, else `undefined`. */
function positive(text: string | undefined): number | undefined {
  const value = count(text);
  return value === 0 ? undefined : value;
}

const ENTRY = /^\s*(\d+)\s*(?:\(\s*x\s*(\d+)\s*\))?\s*$/;

/** `2(x3),1` as runs of `[tasks, nodes]`; `undefined` when any entry is malformed. */
function runs(text: string): [number, number][] | undefined {
  const parsed: [number, number][] = [];
  for (const entry of text.split(',')) {
    const match = ENTRY.exec(entry);
    const tasks = positive(match?.[1]);
    const nodes = match?.[2] === undefined ? 1 : positive(match[2]);
    if (tasks === undefined || nodes === undefined) return undefined;
    parsed.push([tasks, nodes]);
  }
  return parsed;
}

/**
 * This node's entry of `SLURM_TASKS_PER_NODE` (`4`, `2(x3),1`), indexed by `SLURM_NODEID`. Where
 * the node cannot be identified (no, a malformed or an out-of-range `SLURM_NODEID`) and the nodes
 * differ, the largest entry, guessed: never too few workers for the memory they share.
 */
function tasksOnNode(
  list: string,
  nodeId: string | undefined,
): { tasks: number; guessed: boolean } | undefined {
  const parsed = runs(list);
  if (parsed === undefined) return undefined;
  let index = count(nodeId);
  for (const [tasks, nodes] of parsed) {
    if (index === undefined) break;
    if (index < nodes) return { tasks, guessed: false };
    index -= nodes;
  }
  const counts = parsed.map(([tasks]) => tasks);
  const largest = Math.max(...counts);
  return { tasks: largest, guessed: counts.some((tasks) => tasks !== largest) };
}

/**
 * The number of tasks Slurm runs on this node: `SLURM_NTASKS_PER_NODE` when set, else this
 * node's entry of `SLURM_TASKS_PER_NODE` (position `SLURM_NODEID`; the largest entry, guessed,
 * where the node cannot be identified). Where `SLURM_TASKS_PER_NODE` is malformed, every task of
 * the job (`SLURM_NTASKS`, else 1), with `malformed` set. `undefined` outside Slurm: never a throw.
 */
export function slurmTasksOnNode(env: Env): SlurmTasks | undefined {
  const perNode = positive(env.SLURM_NTASKS_PER_NODE);
  if (perNode !== undefined) {
    return { tasks: perNode, origin: 'SLURM_NTASKS_PER_NODE', guessed: false };
  }
  const list = env.SLURM_TASKS_PER_NODE;
  if (list === undefined) return undefined;
  const found = tasksOnNode(list, env.SLURM_NODEID);
  if (found !== undefined) return { ...found, origin: 'SLURM_TASKS_PER_NODE' };
  // At most every task of the job runs here: never too few workers for the memory they share.
  const job = positive(env.SLURM_NTASKS);
  return job === undefined
    ? { tasks: 1, origin: 'SLURM_TASKS_PER_NODE', guessed: true, malformed: list }
    : { tasks: job, origin: 'SLURM_NTASKS', guessed: true, malformed: list };
}
