import { closest } from '../core/options.js';
import { FLAGS, type Flag, type Request, UsageError } from './flags.js';
import type { CliIo } from './io.js';

/** The flag an argument names (`--points`, `--points=5`, `-h`), or `undefined`. */
function flagOf(arg: string): string | undefined {
  if (arg.startsWith('--')) {
    const name = arg.slice(2).split('=', 1)[0] ?? '';
    return Object.hasOwn(FLAGS, name) ? name : undefined;
  }
  if (/^-[a-z]$/.test(arg)) {
    return Object.entries(FLAGS).find(([, flag]) => `-${flag.short}` === arg)?.[0];
  }
  return undefined;
}

/** Throws for a long flag nobody knows, naming the closest known one. */
function unknownFlag(arg: string): never {
  const typed = arg.split('=', 1)[0] as string;
  const hint = closest(typed.slice(2), Object.keys(FLAGS));
  throw new UsageError(
    `Unknown option '${typed}'${hint === undefined ? '' : `: did you mean --${hint}?`}`,
  );
}

/**
 * Joins a value that starts with '-' to the flag before it (`--fraction -1` → `--fraction=-1`),
 * so that a negative number is taken as the value it is, and judged as such; a flag that takes
 * a value and is followed by another flag, or by nothing, is an error that says what it needs;
 * a flag given twice is an error.
 */
function attachValues(argv: readonly string[]): string[] {
  const joined: string[] = [];
  const seen = new Set<string>();
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] as string;
    if (arg === '--') return [...joined, ...argv.slice(index)];
    const name = flagOf(arg);
    if (name === undefined && arg.startsWith('--') && arg.length > 2) unknownFlag(arg);
    if (name !== undefined) {
      if (seen.has(name)) throw new UsageError(`--${name} is given twice: give it once`);
      seen.add(name);
    }
    const flag = name === undefined ? undefined : FLAGS[name];
    if (flag?.value === undefined || arg.includes('=')) {
      joined.push(arg);
      continue;
    }
    const next = argv[index + 1];
    if (next === undefined || flagOf(next) !== undefined) {
      throw new UsageError(`--${name} needs ${flag.needs ?? 'a value'}`);
    }
    joined.push(next.startsWith('-') ? `${arg}=${next}` : arg);
    if (next.startsWith('-')) index += 1;
  }
  return joined;
}

/** An argument that is no flag: the command takes none. */
function positional(arg: string): UsageError {
  return new UsageError(
    `Unexpected argument '${arg}'. This command does not take positional arguments`,
  );
}

/**
 * The value of each flag in `args` (as {@link attachValues} leaves them: each value flag with
 * its value), `''` for a switch, in the order given. What `node:util`'s `parseArgs` would do,
 * without loading it at the command's start.
 */
function readValues(args: readonly string[]): [string, string][] {
  const values: [string, string][] = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    if (arg === '--') {
      const next = args[index + 1];
      if (next !== undefined) throw positional(next);
      break;
    }
    if (!arg.startsWith('--')) {
      throw arg.startsWith('-') && arg.length > 1
        ? new UsageError(`Unknown option '${arg}'`)
        : positional(arg);
    }
    const equals = arg.indexOf('=');
    const name = arg.slice(2, equals < 0 ? undefined : equals);
    const flag = FLAGS[name] as Flag;
    if (flag.value === undefined) {
      if (equals >= 0) throw new UsageError(`Option '--${name}' does not take an argument`);
      values.push([name, '']);
    } else {
      index += equals < 0 ? 1 : 0;
      values.push([name, equals < 0 ? (args[index] as string) : arg.slice(equals + 1)]);
    }
  }
  return values;
}

/** Whether `argv` asks for `flag` (or its short alias) before any `--`. */
function asks(argv: readonly string[], flag: string): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((arg) => flagOf(arg) === flag);
}

/** Reads the flags into a request, or throws a {@link UsageError}. `--version`, then `--help`, win. */
export function parse(
  argv: readonly string[],
  { env, fsRoot = '/', probes, deviceProbes }: CliIo,
): Request {
  const request: Request = {
    help: asks(argv, 'help'),
    version: asks(argv, 'version'),
    json: false,
    plan: [],
    watch: false,
    options: {
      env,
      fsRoot,
      ...(probes === undefined ? {} : { probes }),
      ...(deviceProbes === undefined ? {} : { deviceProbes }),
    },
  };
  if (request.help || request.version) return request;
  for (const [name, value] of readValues(attachValues(argv))) {
    (FLAGS[name] as Flag).set(request, value);
  }
  if ((request.nPoints === undefined) !== (request.nParams === undefined)) {
    throw new UsageError('--points and --params go together');
  }
  if (request.plan.length > 0 && request.nPoints === undefined) {
    const flags = request.plan.join(', ').replace(/, ([^,]+)$/, ' and $1');
    const need = request.plan.length === 1 ? 'needs' : 'need';
    throw new UsageError(`${flags} ${need} --points and --params`);
  }
  if (request.intervalMs !== undefined && !request.watch) {
    throw new UsageError('--interval goes with --watch');
  }
  return request;
}
