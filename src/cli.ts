#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { detectMemory, type HostProbes, type MemoryReport } from './memoryDetect.js';
import { parseDecimal, parseInteger } from './parse.js';
import { type StrategyDecision, selectNlsqStrategy } from './strategy.js';
import {
  type AdaptiveThreshold,
  getAdaptiveMemoryThreshold,
  type ThresholdOptions,
} from './threshold.js';

/** Where the command writes, and the environment it reads. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  /** Sources of host RAM, replaced in tests. Default: systeminformation and `os.totalmem`. */
  probes?: HostProbes;
  /** Whether to colour the text output. Default: `false`. */
  color?: boolean;
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

const HELP = `Usage: nlsq-memory [--points N --params P] [--fraction F] [--basis total|available]
                   [--total-memory-gb G] [--json]

How much memory may a job use here, and which NLSQ strategy fits? Shows the host's RAM, the
container or Slurm limit that caps it and where that limit is set, the memory threshold, and
with --points and --params the strategy (standard, out_of_core or hybrid_streaming) and why.

Options:
  --points N             number of data points (with --params)
  --params P             number of fit parameters (with --points)
  --fraction F           fraction of memory to allow, clamped to [0.1, 0.9]
                         (default: NLSQ_MEMORY_FRACTION, else 0.75)
  --basis B              apply the fraction to 'total' (default) or 'available' memory
  --total-memory-gb G    use a known budget of G GB (GiB) instead of the detected memory
  --json                 print one JSON object: memory, threshold, and decision with --points
  -h, --help             show this help
  -v, --version          show the version

Text output is coloured on a terminal, unless NO_COLOR is set.

Examples:
  nlsq-memory --points 100000000 --params 53
  nlsq-memory --json --fraction 0.5

Exit codes: 0 success, 1 unexpected failure, 2 bad flags.
`;

class UsageError extends Error {}

function count(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = parseInteger(text);
  if (value === undefined || !Number.isSafeInteger(value)) {
    throw new UsageError(`--${flag} must be a non-negative integer, got ${JSON.stringify(text)}`);
  }
  return value;
}

interface Request {
  help: boolean;
  version: boolean;
  json: boolean;
  sizes: { nPoints: number; nParams: number } | undefined;
  options: ThresholdOptions;
}

function parse(argv: string[], { env, probes }: CliIo): Request {
  let values: ReturnType<typeof parseFlags>['values'];
  try {
    values = parseFlags(argv).values;
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\s*\n\s*/g, ' '));
  }
  const nPoints = count('points', values.points);
  const nParams = count('params', values.params);
  if ((nPoints === undefined) !== (nParams === undefined)) {
    throw new UsageError('--points and --params go together');
  }
  const options: ThresholdOptions = { env, ...(probes === undefined ? {} : { probes }) };
  if (values.fraction !== undefined) {
    const fraction = parseDecimal(values.fraction);
    if (fraction === undefined) {
      throw new UsageError(`--fraction must be a number, got ${JSON.stringify(values.fraction)}`);
    }
    options.memoryFraction = fraction;
  }
  const budget = values['total-memory-gb'];
  if (budget !== undefined) {
    const gib = parseDecimal(budget);
    if (gib === undefined || gib <= 0) {
      throw new UsageError(
        `--total-memory-gb must be a number above 0, got ${JSON.stringify(budget)}`,
      );
    }
    options.totalMemoryBytes = gib * 1024 ** 3;
  }
  if (values.basis !== undefined) {
    if (values.basis !== 'total' && values.basis !== 'available') {
      throw new UsageError(
        `--basis must be 'total' or 'available', got ${JSON.stringify(values.basis)}`,
      );
    }
    options.basis = values.basis;
  }
  return {
    help: values.help === true,
    version: values.version === true,
    json: values.json === true,
    sizes: nPoints === undefined || nParams === undefined ? undefined : { nPoints, nParams },
    options,
  };
}

function parseFlags(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      points: { type: 'string' },
      params: { type: 'string' },
      fraction: { type: 'string' },
      basis: { type: 'string' },
      'total-memory-gb': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
}

const gb = (bytes: number): string => `${(bytes / 1024 ** 3).toFixed(2)} GB`;

function text(
  memory: MemoryReport | null,
  threshold: AdaptiveThreshold,
  decision: StrategyDecision | undefined,
  color: boolean,
): string {
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
  const basis = info.detectionMethod === 'override' ? 'given' : info.basis;
  const of =
    info.detectionMethod === 'fallback'
      ? 'fallback: memory unknown'
      : `${Math.round(info.memoryFraction * 100)}% of ${info.totalMemoryGb.toFixed(2)} GB ${basis}`;
  rows.push([
    'Threshold',
    `${threshold.thresholdGb.toFixed(2)} GB (${of}, fraction from ${info.source})`,
  ]);
  if (decision !== undefined) {
    rows.push(['Strategy', paint(STRATEGY_COLORS[decision.strategy], decision.strategy)]);
    rows.push(['Reason', decision.reason]);
    rows.push(['Max in memory', `${decision.maxInMemoryPoints.toLocaleString('en-US')} points`]);
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

async function respond(request: Request, io: CliIo): Promise<void> {
  if (request.help) return io.stdout(HELP);
  if (request.version) return io.stdout(`${await version()}\n`);
  const memory = await detectMemory(request.options);
  const threshold = await getAdaptiveMemoryThreshold(request.options);
  const decision =
    request.sizes === undefined
      ? undefined
      : await selectNlsqStrategy(request.sizes.nPoints, request.sizes.nParams, request.options);
  io.stdout(
    request.json
      ? `${JSON.stringify({ memory, threshold, ...(decision === undefined ? {} : { decision }) }, null, 2)}\n`
      : text(memory, threshold, decision, io.color === true),
  );
}

/**
 * Runs the command with `argv` (without `node` and the script). Resolves with the exit code:
 * 0, 2 for bad flags, 1 for anything unexpected; errors are one line on stderr, never a stack.
 */
export async function main(argv: string[], io: CliIo): Promise<number> {
  try {
    await respond(parse(argv, io), io);
    return 0;
  } catch (error) {
    const usage = error instanceof UsageError;
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`nlsq-memory: ${message}${usage ? ' (see --help)' : ''}\n`);
    return usage ? 2 : 1;
  }
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
  process.exitCode = await main(process.argv.slice(2), {
    stdout: (chunk) => process.stdout.write(chunk),
    stderr: (chunk) => process.stderr.write(chunk),
    env: process.env,
    color: supportsColor(process.stdout.isTTY, process.env),
  });
}
