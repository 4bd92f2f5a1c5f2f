import type { PlanOptions } from '../answer/options.js';
import { pick } from '../core/options.js';
import type { FitPlan } from '../policy/plan.js';
import type { MemoryEvent } from '../watch/options.js';
import { watchMemory, watchNlsqStrategy } from '../watch/watchMemory.js';
import type { Request } from './flags.js';
import type { CliIo } from './io.js';
import { eventLine, planLine } from './render.js';

type Change = { kind: 'event'; event: MemoryEvent } | { kind: 'plan'; plan: FitPlan };

/** Every value of several async iterators, as each comes, until all are done. */
async function* merged(sources: AsyncIterator<Change>[]): AsyncGenerator<Change> {
  const next = (source: AsyncIterator<Change>) =>
    source.next().then((result) => ({ source, result }));
  const pending = new Map(sources.map((source) => [source, next(source)]));
  while (pending.size > 0) {
    const { source, result } = await Promise.race(pending.values());
    if (result.done === true) {
      pending.delete(source);
      continue;
    }
    pending.set(source, next(source));
    yield result.value;
  }
}

/** A watch's values, tagged. */
async function* tagged<T>(
  values: AsyncIterable<T>,
  tag: (value: T) => Change,
): AsyncGenerator<Change> {
  for await (const value of values) yield tag(value);
}

/**
 * Prints each change of the memory, and each new plan (with `--points`), until the signal ends
 * the watch. `shown` is the plan the report already printed; without it, the watch's first plan
 * is the baseline: nothing has changed yet.
 */
export async function watchChanges(
  request: Request,
  io: CliIo,
  shown: FitPlan | undefined,
): Promise<void> {
  const { options } = request;
  const watch = {
    ...(request.intervalMs === undefined ? {} : { intervalMs: request.intervalMs }),
    ...(io.signal === undefined ? {} : { signal: io.signal }),
  };
  const sources = [
    tagged(watchMemory({ ...pick(options, ['env', 'fsRoot', 'probes']), ...watch }), (event) => ({
      kind: 'event' as const,
      event,
    })),
  ];
  const { nPoints, nParams } = request;
  const planning = nPoints !== undefined && nParams !== undefined;
  if (planning && options.device != null) {
    io.stderr(
      'nlsq-memory: --watch follows host memory, not a GPU: with --device, no new plan is printed\n',
    );
  }
  if (planning && options.device == null) {
    const { device, deviceProbes, ...planning }: PlanOptions = options;
    sources.push(
      tagged(watchNlsqStrategy(nPoints, nParams, { ...planning, ...watch }), (plan) => ({
        kind: 'plan' as const,
        plan,
      })),
    );
  }
  if (io.interactive === true) {
    io.stderr('nlsq-memory: watching for changes of the memory; Ctrl-C stops\n');
  }
  let previous = shown;
  let baseline = shown === undefined;
  for await (const change of merged(sources)) {
    const time = new Date().toISOString();
    if (change.kind === 'event') {
      io.stdout(
        request.json
          ? `${JSON.stringify({ time, ...change.event })}\n`
          : `${time} ${eventLine(change.event)}\n`,
      );
      continue;
    }
    const { plan } = change;
    const same =
      baseline ||
      (previous !== undefined &&
        previous.chunkPoints === plan.chunkPoints &&
        previous.decision.strategy === plan.decision.strategy);
    baseline = false;
    if (!same) {
      io.stdout(
        request.json
          ? `${JSON.stringify({ time, type: 'plan', ...plan })}\n`
          : `${time} ${planLine(plan, previous)}\n`,
      );
    }
    previous = plan;
  }
}
