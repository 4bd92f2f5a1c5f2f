import type { PlanOptions } from '../answer/options.js';
import { MAX_TIMEOUT_MS } from '../core/check.js';
import { parseUserNumber } from '../core/numbers.js';
import { GIB } from '../core/units.js';

/** A bad flag or value: a one-line error, exit code 2. */
export class UsageError extends Error {}

/** What the flags ask for. */
export interface Request {
  help: boolean;
  version: boolean;
  json: boolean;
  nPoints?: number;
  nParams?: number;
  /** The flags that ask for the fit plan (`--plan`, or one that implies it), as typed. */
  plan: string[];
  /** Whether to print changes until stopped. */
  watch: boolean;
  /** The poll period of `--watch`, in ms. */
  intervalMs?: number;
  /** The options of the API calls, filled by the flags. */
  options: PlanOptions;
}

/** A flag of the command: adding one is adding an entry to `FLAGS`. */
export interface Flag {
  /** The value's name in the help, for a flag that takes a value. */
  value?: string;
  /** What a flag that takes a value needs, for the error when it has none. */
  needs?: string;
  /** A one-letter alias. */
  short?: string;
  /** Its help, one line or more. */
  help: string;
  /** Records the flag in the request: its value, or `''` for a switch. */
  set: (request: Request, value: string) => void;
}

const usage = (flag: string, expected: string, text: string): UsageError =>
  new UsageError(`--${flag} must be ${expected}, got ${JSON.stringify(text)}`);

/** A count as users write it: `100000000`, `1e8`, `100_000_000`; from `min` to `max`. */
function count(
  flag: string,
  text: string,
  min = 0,
  expected = 'a non-negative integer',
  max = Number.MAX_SAFE_INTEGER,
): number {
  const value = parseUserNumber(text);
  if (value === undefined || !Number.isInteger(value) || value < min) {
    throw usage(flag, expected, text);
  }
  if (value > max) throw usage(flag, `${expected}, at most ${max}`, text);
  return value;
}

/** A budget in GB (GiB) as a whole number of bytes, at least one and at most 2 ** 53 - 1. */
function budgetBytes(flag: string, text: string): number {
  const gib = parseUserNumber(text);
  if (gib === undefined || gib <= 0) throw usage(flag, 'a number above 0', text);
  const bytes = Math.floor(gib * GIB);
  if (bytes < 1) throw usage(flag, 'at least one byte', text);
  if (bytes > Number.MAX_SAFE_INTEGER) throw usage(flag, `below ${2 ** 53 / GIB}`, text);
  return bytes;
}

/** The command's flags, by name: the parser, the help and the errors follow from this table. */
export const FLAGS: Record<string, Flag> = {
  points: {
    value: 'N',
    needs: 'a number',
    help: 'number of data points (with --params): 100000000, 1e8, 100_000_000',
    set: (request, text) => {
      request.nPoints = count('points', text);
    },
  },
  params: {
    value: 'P',
    needs: 'a number',
    help: 'number of fit parameters (with --points)',
    set: (request, text) => {
      request.nParams = count('params', text);
    },
  },
  fraction: {
    value: 'F',
    needs: 'a number',
    help: 'fraction of memory to allow, clamped to [0.1, 0.9]\n(default: NLSQ_MEMORY_FRACTION, else 0.75)',
    set: (request, text) => {
      const fraction = parseUserNumber(text);
      if (fraction === undefined) throw usage('fraction', 'a number', text);
      request.options.memoryFraction = fraction;
    },
  },
  basis: {
    value: 'B',
    needs: "'total' or 'available'",
    help: "apply the fraction to 'total' (default) or 'available' memory",
    set: (request, text) => {
      if (text !== 'total' && text !== 'available') {
        throw usage('basis', "'total' or 'available'", text);
      }
      request.options.basis = text;
    },
  },
  'total-memory-gb': {
    value: 'G',
    needs: 'a number of GB',
    help: 'use a known budget of G GB (GiB) instead of the detected memory',
    set: (request, text) => {
      request.options.totalMemoryBytes = budgetBytes('total-memory-gb', text);
    },
  },
  device: {
    value: 'N',
    needs: 'the index of a GPU',
    help: 'decide for GPU N: a fraction of its memory (NLSQ_GPU_MEMORY_FRACTION,\nelse as --fraction); the report lists what nvidia-smi and rocm-smi show,\nand with --device systeminformation is asked too',
    set: (request, text) => {
      request.options.device = count('device', text);
    },
  },
  plan: {
    help: 'with --points and --params, also size the buffers: points per chunk, chunks',
    set: (request) => {
      request.plan.push('--plan');
    },
  },
  workers: {
    value: 'N',
    needs: "a number or 'auto'",
    help: "processes or threads sharing this memory, or 'auto' (Slurm's tasks on\nthis node); implies --plan",
    set: (request, text) => {
      request.options.workers =
        text === 'auto' ? text : count('workers', text, 1, "'auto' or a positive integer");
      request.plan.push('--workers');
    },
  },
  align: {
    value: 'N',
    needs: 'a number',
    help: 'chunk sizes are multiples of N (e.g. the number of angles); implies --plan',
    set: (request, text) => {
      request.options.alignTo = count('align', text, 1, 'a positive integer');
      request.plan.push('--align');
    },
  },
  'max-chunk': {
    value: 'N',
    needs: 'a number',
    help: 'the most points a chunk or batch may hold; implies --plan',
    set: (request, text) => {
      request.options.maxChunkPoints = count('max-chunk', text, 1, 'a positive integer');
      request.plan.push('--max-chunk');
    },
  },
  'min-chunk': {
    value: 'N',
    needs: 'a number',
    help: 'chunks below this many points get a warning; implies --plan',
    set: (request, text) => {
      request.options.minChunkPoints = count('min-chunk', text, 1, 'a positive integer');
      request.plan.push('--min-chunk');
    },
  },
  key: {
    value: 'K',
    needs: 'a model name',
    help: 'plan with the overhead learned for model K from measured peaks (recordFitPeak),\nonce 3 runs are recorded; implies --plan',
    set: (request, text) => {
      if (text === '') throw usage('key', 'a model name', text);
      request.options.calibration = { key: text };
      request.plan.push('--key');
    },
  },
  watch: {
    help: 'then print a line for each change of the limit, pressure or memory\nevents, and with --points each new plan, until Ctrl-C',
    set: (request) => {
      request.watch = true;
    },
  },
  interval: {
    value: 'MS',
    needs: 'a number of milliseconds',
    help: 'how often --watch looks, in milliseconds (default 1000, at least 50)',
    set: (request, text) => {
      request.intervalMs = count('interval', text, 50, 'an integer of at least 50', MAX_TIMEOUT_MS);
    },
  },
  json: {
    help: 'print one JSON object: memory, devices, threshold, decision (with\n--points) and plan (with --plan); with --watch, one object per line',
    set: (request) => {
      request.json = true;
    },
  },
  help: {
    short: 'h',
    help: 'show this help',
    set: (request) => {
      request.help = true;
    },
  },
  version: {
    short: 'v',
    help: 'show the version',
    set: (request) => {
      request.version = true;
    },
  },
};

const HELP_COLUMN = 25;

function flagHelp(): string {
  return Object.entries(FLAGS)
    .map(([name, flag]) => {
      const names = `${flag.short === undefined ? '' : `-${flag.short}, `}--${name}`;
      const head = `  ${names}${flag.value === undefined ? '' : ` ${flag.value}`}`;
      const [first, ...rest] = flag.help.split('\n');
      return [
        `${head.padEnd(HELP_COLUMN - 1)} ${first}`,
        ...rest.map((line) => `${' '.repeat(HELP_COLUMN)}${line}`),
      ].join('\n');
    })
    .join('\n');
}

/** The text of `--help`. */
export const HELP: string = `Usage: nlsq-memory [--points N --params P] [--fraction F] [--basis total|available]
                   [--total-memory-gb G] [--device N] [--plan] [--workers N|auto] [--align N]
                   [--max-chunk N] [--min-chunk N] [--key K] [--watch [--interval MS]] [--json]
                   [-h | --help] [-v | --version]

How much memory may a job use here, and which NLSQ strategy fits? Shows the host's RAM, the
container or Slurm limit that caps it and where that limit is set, the GPUs and their memory,
and the memory threshold; with --points and --params, the strategy (standard, out_of_core or
hybrid_streaming) and why; with --plan, how many points each buffer holds.

Options:
${flagHelp()}

Numbers are written as you like: 100000000, 1e8 or 100_000_000. A value follows its flag or
an = sign (--points=1e8, --fraction=-1); -- ends the flags. Text output is coloured on a
terminal, unless NO_COLOR is set. Warnings are one line each on stderr.

Examples:
  nlsq-memory --points 1e8 --params 53
  nlsq-memory --points 23e6 --params 53 --plan --align 23 --workers auto
  nlsq-memory --points 23e6 --params 53 --key xpcs-laminar
  nlsq-memory --json --fraction 0.5
  nlsq-memory --points 5e7 --params 53 --device 0
  nlsq-memory --watch --json

Exit codes: 0 success (and --watch stopped by Ctrl-C), 1 unexpected failure, 2 bad flags,
130 or 143 when Ctrl-C or SIGTERM ends a run before it prints.
`;
