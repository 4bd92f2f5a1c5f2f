import { getAdaptiveMemoryThresholdSync } from '../answer/adaptiveThreshold.js';
import { STRATEGY_KEYS, THRESHOLD_KEYS } from '../answer/options.js';
import { planNlsqFitSync } from '../answer/planFit.js';
import { selectNlsqStrategySync } from '../answer/selectStrategy.js';
import { builtin } from '../core/builtins.js';
import { pick } from '../core/options.js';
import { detectDeviceMemory } from '../detect/devices.js';
import { detectMemory } from '../detect/memoryDetect.js';
import { forCommand, inFlags } from './errors.js';
import { HELP, type Request, UsageError } from './flags.js';
import type { CliIo } from './io.js';
import { parse } from './parse.js';
import { type Shown, text } from './render.js';
import { watchChanges } from './watch.js';

export { type CliIo, supportsColor } from './io.js';

/** The version in package.json, one folder up from the built command, two from this source. */
function version(): string {
  const { readFileSync } = builtin('node:fs');
  for (const path of ['../package.json', '../../package.json']) {
    try {
      const manifest = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === 'nlsq-memory' && manifest.version !== undefined)
        return manifest.version;
    } catch {
      // not here
    }
  }
  throw new Error('cannot find the package.json of nlsq-memory');
}

async function respond(request: Request, io: CliIo): Promise<void> {
  if (request.version) return io.stdout(`${version()}\n`);
  if (request.help) return io.stdout(HELP);
  // One detection for everything shown: the memory, the GPUs, the threshold, the decision, the plan.
  const { options, nPoints, nParams } = request;
  const { env, deviceProbes, device } = options;
  const [report, devices] = await Promise.all([
    detectMemory(pick(options, ['env', 'fsRoot', 'probes'])),
    // The report's GPU list asks nvidia-smi and rocm-smi only, unless --device asks for one.
    // systeminformation's `graphics()` takes longer than all the rest.
    detectDeviceMemory({ env, probes: deviceProbes, askSystemInformation: device != null }),
  ]);
  // Every answer from this one snapshot: nothing is detected again.
  const snapshot = { ...options, report, devices };
  const shown: Shown = {
    memory: report,
    devices,
    threshold: getAdaptiveMemoryThresholdSync(pick(snapshot, THRESHOLD_KEYS)),
  };
  if (nPoints !== undefined && nParams !== undefined) {
    if (request.plan.length > 0) {
      shown.plan = planNlsqFitSync(nPoints, nParams, snapshot);
      shown.decision = shown.plan.decision;
    } else {
      shown.decision = selectNlsqStrategySync(nPoints, nParams, pick(snapshot, STRATEGY_KEYS));
    }
  }
  if (!request.json) io.stdout(text(shown, io.color === true));
  else io.stdout(`${JSON.stringify(asJson(shown), null, request.watch ? undefined : 2)}\n`);
  if (request.watch) await watchChanges(request, io, shown.plan);
}

/**
 * The report as JSON, in one order whatever is asked: `memory`, `devices`, `threshold`, then
 * with `--points` the `decision`, with `--plan` the `plan` (without the decision, given once).
 */
function asJson({ memory, devices, threshold, decision, plan }: Shown): object {
  const { decision: _, ...sized } = plan ?? {};
  return { memory, devices, threshold, decision, plan: plan === undefined ? undefined : sized };
}

/** Whether `error` says the reader of a pipe went away (`… | head`). */
export function isClosedPipe(error: unknown): boolean {
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
    // The API's TypeError and RangeError name a value given on the command line.
    const usage =
      error instanceof UsageError || error instanceof RangeError || error instanceof TypeError;
    const message = error instanceof Error ? error.message : String(error);
    // Warnings are emitted on the next tick: those of the failed call come before the error.
    await new Promise((resolve) => setImmediate(resolve));
    io.stderr(`nlsq-memory: ${usage ? forCommand(message) : message}\n`);
    return usage ? 2 : 1;
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
    if (warning.name !== 'NlsqMemoryWarning') {
      for (const print of printers) print.call(emitter, warning);
    } else write(`nlsq-memory: warning: ${inFlags(warning.message)}\n`);
  });
}
