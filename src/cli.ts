#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type DeviceMemory, type DeviceProbes, detectDeviceMemory } from './device.js';
import { detectMemory, type HostProbes, type MemoryReport } from './memoryDetect.js';
import { parseUserNumber } from './parse.js';
import { type FitPlan, type PlanOptions, planWithThreshold } from './plan.js';
import { type StrategyDecision, selectWithThreshold } from './strategy.js';
import { type AdaptiveThreshold, deviceOptionsOf, thresholdFromReport } from './threshold.js';
import { formatGb, GIB } from './units.js';
import { type MemoryEvent, watchMemory } from './watch.js';

/** Where the command writes, and the environment it reads. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  /** Where `/proc` and `/sys` are read from, replaced in tests. Default: `'/'`. */
  fsRoot?: string;
  /** Sources of host RAM, replaced in tests. Default: systeminformation and `os.totalmem`. */
  probes?: HostProbes;
  /** The last source of GPU memory, replaced in tests. Default: systeminformation's `graphics()`. */
  deviceProbes?: DeviceProbes;
  /** Whether to colour the text output. Default: `false`. */
  color?: boolean;
  /** Ends `--watch` (the command's own: Ctrl-C). Default: none. */
  signal?: AbortSignal;
}

/** Colour only on a terminal, and never with `NO_COLOR` set (no-color.org) or `TERM=dumb`. */
export function supportsColor(isTTY: boolean | undefined, env: CliIo['env']): boolean {
  return isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
}

const STRATEGY_COLORS: Record<StrategyDecision['strategy'], number> = {
  standard: 32,
  out_of_core: 33,
  hybrid_streaming: 35,
};

class UsageError extends Error {}

/** What the flags ask for. */
interface Request {
  help: boolean;
  version: boolean;
  json: boolean;
  nPoints?: number;
  nParams?: number;
  /** Whether to print the fit plan (`--plan`, or implied by `--workers` and `--align`). */
  plan: boolean;
  /** Whether to print changes until stopped. */
  watch: boolean;
  /** The poll period of `--watch`, in ms. */
  intervalMs?: number;
  /** The options of the API calls, filled by the flags. */
  options: PlanOptions;
}

/** A flag of the command: adding one is adding an entry to `FLAGS`. */
interface Flag {
  /** The value's name in the help, for a flag that takes a value. */
  value?: string;
  /** A one-letter alias. */
  short?: string;
  /** Its help, one line or more. */
  help: string;
  /** Records the flag in the request: its value, or `''` for a switch. */
  set: (request: Request, value: string) => void;
}

const usage = (flag: string, expected: string, text: string): UsageError =>
  new UsageError(`--${flag} must be ${expected}, got ${JSON.stringify(text)}`);

/** A count as users write it: `100000000`, `1e8`, `100_000_000`; at least `min`. */
function count(flag: string, text: string, min = 0, expected = 'a non-negative integer'): number {
  const value = parseUserNumber(text);
  if (value === undefined || !Number.isInteger(value) || value < min) {
    throw usage(flag, expected, text);
  }
  if (value > Number.MAX_SAFE_INTEGER) {
    throw usage(flag, `${expected} at most ${Number.MAX_SAFE_INTEGER}`, text);
  }
  return value;
}

/** A budget in GB (GiB) as a whole number of bytes, at least one and at most 2 ** 53 - 1. */
function budgetBytes(flag: string, text: string): number {
  const gib = parseUserNumber(text);
  if (gib === undefined || gib <= 0) throw usage(flag, 'a number above 0', text);
  const bytes = Math.floor(gib * GIB);
  if (bytes < 1) throw usage(flag, `at least one byte (${1 / GIB})`, text);
  if (bytes > Number.MAX_SAFE_INTEGER) throw usage(flag, `below ${2 ** 53 / GIB}`, text);
  return bytes;
}

const FLAGS: Record<string, Flag> = {
  points: {
    value: 'N',
    help: 'number of data points (with --params): 100000000, 1e8, 100_000_000',
    set: (request, text) => {
      request.nPoints = count('points', text);
    },
  },
  params: {
    value: 'P',
    help: 'number of fit parameters (with --points)',
    set: (request, text) => {
      request.nParams = count('params', text);
    },
  },
  fraction: {
    value: 'F',
    help: 'fraction of memory to allow, clamped to [0.1, 0.9]\n(default: NLSQ_MEMORY_FRACTION, else 0.75)',
    set: (request, text) => {
      const fraction = parseUserNumber(text);
      if (fraction === undefined) throw usage('fraction', 'a number', text);
      request.options.memoryFraction = fraction;
    },
  },
  basis: {
    value: 'B',
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
    help: 'use a known budget of G GB (GiB) instead of the detected memory',
    set: (request, text) => {
      request.options.totalMemoryBytes = budgetBytes('total-memory-gb', text);
    },
  },
  device: {
    value: 'N',
    help: 'decide for GPU N: a fraction of its memory (NLSQ_GPU_MEMORY_FRACTION,\nelse as --fraction); the report lists what nvidia-smi and rocm-smi show,\nand with --device systeminformation is asked too',
    set: (request, text) => {
      request.options.device = count('device', text);
    },
  },
  plan: {
    help: 'with --points and --params, also size the buffers: points per chunk, chunks',
    set: (request) => {
      request.plan = true;
    },
  },
  workers: {
    value: 'N',
    help: "processes or threads sharing this memory, or 'auto' (Slurm's tasks on\nthis node); implies --plan",
    set: (request, text) => {
      request.options.workers =
        text === 'auto' ? text : count('workers', text, 1, "a positive integer or 'auto'");
      request.plan = true;
    },
  },
  align: {
    value: 'N',
    help: 'chunk sizes are multiples of N (e.g. the number of angles); implies --plan',
    set: (request, text) => {
      request.options.alignTo = count('align', text, 1, 'a positive integer');
      request.plan = true;
    },
  },
  watch: {
    help: 'then print a line for each change of the limit, pressure or memory\nevents, until Ctrl-C',
    set: (request) => {
      request.watch = true;
    },
  },
  interval: {
    value: 'MS',
    help: 'how often --watch looks, in milliseconds (default 1000, at least 50)',
    set: (request, text) => {
      request.intervalMs = count('interval', text, 50, 'an integer of at least 50');
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

const HELP = `Usage: nlsq-memory [--points N --params P] [--fraction F] [--basis total|available]
                   [--total-memory-gb G] [--device N] [--plan] [--workers N|auto] [--align N]
                   [--watch [--interval MS]] [--json]

How much memory may a job use here, and which NLSQ strategy fits? Shows the host's RAM, the
container or Slurm limit that caps it and where that limit is set, the GPUs and their memory,
and the memory threshold; with --points and --params, the strategy (standard, out_of_core or
hybrid_streaming) and why; with --plan, how many points each buffer holds.

Options:
${flagHelp()}

Numbers are written as you like: 100000000, 1e8 or 100_000_000. Text output is coloured on a
terminal, unless NO_COLOR is set. Warnings are one line each on stderr.

Examples:
  nlsq-memory --points 1e8 --params 53
  nlsq-memory --points 23e6 --params 53 --plan --align 23 --workers auto
  nlsq-memory --json --fraction 0.5
  nlsq-memory --points 5e7 --params 53 --device 0
  nlsq-memory --watch --json

Exit codes: 0 success, 1 unexpected failure, 2 bad flags.
`;

/**
 * Joins a value that starts with '-' to the flag before it (`--fraction -1` → `--fraction=-1`),
 * so that a negative number is taken as the value it is, and judged as such.
 */
function attachValues(argv: readonly string[]): string[] {
  const joined: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] as string;
    const next = argv[index + 1];
    if (arg === '--') return [...joined, ...argv.slice(index)];
    const name = arg.startsWith('--') ? arg.slice(2) : '';
    const takesValue = Object.hasOwn(FLAGS, name) && FLAGS[name]?.value !== undefined;
    if (takesValue && next?.startsWith('-') === true) {
      joined.push(`${arg}=${next}`);
      index += 1;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

function parse(
  argv: readonly string[],
  { env, fsRoot = '/', probes, deviceProbes }: CliIo,
): Request {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: attachValues(argv),
      strict: true,
      allowPositionals: false,
      options: Object.fromEntries(
        Object.entries(FLAGS).map(([name, flag]) => [
          name,
          {
            type: flag.value === undefined ? ('boolean' as const) : ('string' as const),
            ...(flag.short === undefined ? {} : { short: flag.short }),
          },
        ]),
      ),
    }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\s*\n\s*/g, ' '));
  }
  const request: Request = {
    help: false,
    version: false,
    json: false,
    plan: false,
    watch: false,
    options: {
      env,
      fsRoot,
      ...(probes === undefined ? {} : { probes }),
      ...(deviceProbes === undefined ? {} : { deviceProbes }),
    },
  };
  for (const [name, flag] of Object.entries(FLAGS)) {
    const value = values[name];
    if (value !== undefined) flag.set(request, typeof value === 'string' ? value : '');
  }
  if ((request.nPoints === undefined) !== (request.nParams === undefined)) {
    throw new UsageError('--points and --params go together');
  }
  if (request.plan && request.nPoints === undefined) {
    throw new UsageError('--plan, --workers and --align need --points and --params');
  }
  if (request.intervalMs !== undefined && !request.watch) {
    throw new UsageError('--interval goes with --watch');
  }
  return request;
}

const gb = (bytes: number): string => `${formatGb(bytes / GIB)} GB`;
const grouped = (value: number): string => value.toLocaleString('en-US');

/** What one run shows. */
interface Shown {
  memory: MemoryReport | null;
  devices: DeviceMemory[];
  threshold: AdaptiveThreshold;
  decision?: StrategyDecision;
  plan?: FitPlan;
}

function text({ memory, devices, threshold, decision, plan }: Shown, color: boolean): string {
  const paint = (code: number, value: string): string =>
    color ? `\x1b[${code}m${value}\x1b[0m` : value;
  const { info } = threshold;
  const rows: [string, string][] = [];
  if (memory === null) {
    rows.push(['Host memory', 'unknown (detection failed)']);
  } else {
    rows.push([
      'Host memory',
      memory.hostTotalBytes === null
        ? 'unknown'
        : `${gb(memory.hostTotalBytes)} (${memory.detectionMethod})`,
    ]);
    rows.push([
      'Limit',
      memory.limitBytes === null
        ? 'none'
        : `${gb(memory.limitBytes)} (${memory.limitSource}: ${memory.limitOrigin})`,
    ]);
    rows.push(['Usable', gb(memory.totalBytes)]);
    rows.push([
      'Available now',
      memory.availableBytes === null ? 'unknown' : gb(memory.availableBytes),
    ]);
  }
  if (devices.length === 0) rows.push(['GPUs', 'none']);
  for (const device of devices) {
    const free = device.freeBytes === null ? '' : `, ${gb(device.freeBytes)} free`;
    rows.push([
      `GPU ${device.index}`,
      `${device.name}: ${gb(device.totalBytes)}${free} (${device.source})`,
    ]);
  }
  const basis = info.detectionMethod === 'override' ? 'given' : info.basis;
  const of =
    info.detectionMethod === 'fallback'
      ? 'fallback: memory unknown'
      : `${Math.round(info.memoryFraction * 100)}% of ${formatGb(info.totalMemoryGb)} GB ${basis}`;
  rows.push([
    'Threshold',
    `${formatGb(threshold.thresholdGb)} GB (${of}, fraction from ${info.source})`,
  ]);
  if (decision !== undefined) {
    rows.push(['Strategy', paint(STRATEGY_COLORS[decision.strategy], decision.strategy)]);
    rows.push(['Reason', decision.reason]);
    rows.push(['Max in memory', `${grouped(decision.maxInMemoryPoints)} points`]);
  }
  if (plan !== undefined) {
    rows.push(['Workers', String(plan.workers)]);
    rows.push(['Budget/worker', gb(plan.thresholdBytes)]);
    rows.push([
      'Chunk',
      `${grouped(plan.chunkPoints)} points, Jacobian ${gb(plan.chunkJacobianBytes)}`,
    ]);
    rows.push(['Chunks', grouped(plan.chunkCount)]);
    rows.push(['Plan', plan.reason]);
  }
  return `${rows.map(([label, value]) => `${paint(1, label.padEnd(15))}${value}`).join('\n')}\n`;
}

async function version(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const manifest = JSON.parse(
    await readFile(new URL('../package.json', import.meta.url), 'utf8'),
  ) as {
    version: string;
  };
  return manifest.version;
}

/** systeminformation's `graphics()`, which lists no GPU: it takes longer than all the rest. */
const NO_GRAPHICS: DeviceProbes = {
  loadSystemInformation: async () => ({ graphics: async () => ({ controllers: [] }) }),
};

/**
 * The options of the report's GPU list: `nvidia-smi` and `rocm-smi` only, unless `--device`
 * asks for one (then systeminformation too) or a test gives its own probes.
 */
function listingOnly(options: PlanOptions): PlanOptions {
  return options.deviceProbes === undefined ? { ...options, deviceProbes: NO_GRAPHICS } : options;
}

/** One line for a change seen by `--watch`. */
function eventLine(event: MemoryEvent): string {
  const { report } = event;
  switch (event.type) {
    case 'limit': {
      const origin =
        report.limitSource === null ? 'no limit' : `${report.limitSource}: ${report.limitOrigin}`;
      return `limit ${gb(event.previousBytes)} -> ${gb(report.totalBytes)} (${origin})`;
    }
    case 'pressure':
      return `pressure ${event.level} avg10=${event.avg10.toFixed(2)}%`;
    case 'events':
      return `events ${Object.entries(event.delta)
        .map(([name, rise]) => `${name}+${rise}`)
        .join(' ')}`;
  }
}

/** Prints each change until the signal ends the watch. */
async function watchChanges(request: Request, io: CliIo): Promise<void> {
  const watch = watchMemory({
    ...request.options,
    ...(request.intervalMs === undefined ? {} : { intervalMs: request.intervalMs }),
    ...(io.signal === undefined ? {} : { signal: io.signal }),
  });
  // The watch's own timers never keep a process alive: the command means to, until stopped.
  const keepAlive = setInterval(() => {}, 2 ** 30);
  try {
    for await (const event of watch) {
      const time = new Date().toISOString();
      io.stdout(
        request.json ? `${JSON.stringify({ time, ...event })}\n` : `${time} ${eventLine(event)}\n`,
      );
    }
  } finally {
    clearInterval(keepAlive);
  }
}

async function respond(request: Request, io: CliIo): Promise<void> {
  if (request.help) return io.stdout(HELP);
  if (request.version) return io.stdout(`${await version()}\n`);
  // One detection for everything shown: the memory, the GPUs, the threshold, the decision, the plan.
  const { options, nPoints, nParams } = request;
  const [memory, devices] = await Promise.all([
    detectMemory(options),
    detectDeviceMemory(
      deviceOptionsOf(options.device === undefined ? listingOnly(options) : options),
    ),
  ]);
  const shown: Shown = {
    memory,
    devices,
    threshold: thresholdFromReport(options, memory, devices),
  };
  if (nPoints !== undefined && nParams !== undefined) {
    if (request.plan) {
      shown.plan = planWithThreshold(nPoints, nParams, options, shown.threshold);
      shown.decision = shown.plan.decision;
    } else {
      shown.decision = selectWithThreshold(nPoints, nParams, shown.threshold.thresholdGb, options);
    }
  }
  if (!request.json) io.stdout(text(shown, io.color === true));
  else if (request.watch) io.stdout(`${JSON.stringify(shown)}\n`);
  else io.stdout(`${JSON.stringify(shown, null, 2)}\n`);
  if (request.watch) await watchChanges(request, io);
}

/** Whether `error` says the reader of a pipe went away (`… | head`). */
function isClosedPipe(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'EPIPE';
}

/**
 * Runs the command with `argv` (without `node` and the script). Resolves with the exit code:
 * 0, 2 for bad flags or values the API rejects, 1 for anything unexpected; errors are one line
 * on stderr, never a stack. A closed output pipe ends it quietly, with 0; so does `io.signal`
 * for `--watch`.
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    await respond(parse(argv, io), io);
    return 0;
  } catch (error) {
    if (isClosedPipe(error)) return 0;
    const usage = error instanceof UsageError;
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`nlsq-memory: ${message}${usage ? ' (see --help)' : ''}\n`);
    // The API's TypeError and RangeError name a value given on the command line.
    return usage || error instanceof RangeError || error instanceof TypeError ? 2 : 1;
  }
}

/**
 * Prints this library's warnings as one line each, `nlsq-memory: warning: <message>`, in place of
 * Node's two-line format; other warnings as Node prints them. With `--no-warnings` or
 * `NODE_NO_WARNINGS=1` Node prints none, and neither does this.
 */
export function printWarningsAsLines(
  emitter: NodeJS.EventEmitter,
  write: (text: string) => void,
): void {
  const printers = emitter.listeners('warning') as ((warning: Error) => void)[];
  if (printers.length === 0) return;
  emitter.removeAllListeners('warning');
  emitter.on('warning', (warning: Error) => {
    if (warning.name === 'NlsqMemoryWarning') write(`nlsq-memory: warning: ${warning.message}\n`);
    else for (const print of printers) print.call(emitter, warning);
  });
}

function isEntryPoint(): boolean {
  try {
    const entry = process.argv[1];
    return entry !== undefined && import.meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  // A reader that goes away (`nlsq-memory --json | head -1`) ends the command quietly.
  const stop = new AbortController();
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error) => {
      if (isClosedPipe(error))
        stop.abort(); // --watch ends at the line it could not write
      else process.exitCode = 1;
    });
  }
  const stderr = (chunk: string): void => {
    process.stderr.write(chunk);
  };
  printWarningsAsLines(process, stderr);
  // Ctrl-C ends --watch cleanly, with 0.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());
  process.exitCode = await main(process.argv.slice(2), {
    signal: stop.signal,
    stdout: (chunk) => process.stdout.write(chunk),
    stderr,
    env: process.env,
    color: supportsColor(process.stdout.isTTY, process.env),
  });
}
