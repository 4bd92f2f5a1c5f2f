import type { DeviceMemory, MemoryReport } from '../core/types.js';
import { formatGb, gb, grouped } from '../core/units.js';
import { heapAdvice } from '../detect/snapshot.js';
import type { FitPlan } from '../policy/plan.js';
import type { StrategyDecision } from '../policy/strategy.js';
import type { AdaptiveThreshold } from '../policy/threshold.js';
import type { MemoryEvent } from '../watch/options.js';
import { inFlags } from './errors.js';

const STRATEGY_COLORS: Record<StrategyDecision['strategy'], number> = {
  standard: 32,
  out_of_core: 33,
  hybrid_streaming: 35,
};

/** What one run shows: the same in text and JSON. */
export interface Shown {
  memory: MemoryReport | null;
  devices: DeviceMemory[];
  threshold: AdaptiveThreshold;
  decision?: StrategyDecision;
  plan?: FitPlan;
}

/** The heap's limit, and where it exceeds what the process may use, the flag that fits. */
function heapRow({ heapLimitBytes, totalBytes, limitBytes }: MemoryReport): string {
  const heap = gb(heapLimitBytes ?? 0);
  if ((heapLimitBytes ?? 0) <= totalBytes) return heap;
  const what = limitBytes === null ? `${gb(totalBytes)} of RAM` : `${gb(totalBytes)} limit`;
  return `${heap}, above the ${what}: ${heapAdvice(totalBytes)}`;
}

/** The report as aligned, optionally coloured, text. */
export function text(
  { memory, devices, threshold, decision, plan }: Shown,
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
    if (memory.heapLimitBytes !== null) rows.push(['V8 heap limit', heapRow(memory)]);
  }
  if (devices.length === 0) rows.push(['GPUs', 'none']);
  for (const device of devices) {
    const free = device.freeBytes === null ? '' : `, ${gb(device.freeBytes)} free`;
    const total = device.totalBytes === null ? 'unified memory' : gb(device.totalBytes);
    rows.push([`GPU ${device.index}`, `${device.name}: ${total}${free} (${device.source})`]);
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
    rows.push(['Reason', inFlags(decision.reason)]);
    const each = (plan?.workers ?? 1) > 1 ? ' per worker' : '';
    rows.push([
      'Max in memory',
      `${grouped(decision.maxInMemoryPoints)} points: the most a standard fit holds within the threshold${each}`,
    ]);
  }
  if (plan !== undefined) {
    rows.push(['Workers', String(plan.workers)]);
    rows.push(['Budget/worker', gb(plan.thresholdBytes)]);
    rows.push([
      'Chunk',
      `${grouped(plan.chunkPoints)} points, Jacobian ${gb(plan.chunkJacobianBytes)}: why, see Plan`,
    ]);
    rows.push(['Chunks', grouped(plan.chunkCount)]);
    // The reason names the API's options: here, the flags that set them.
    rows.push(['Plan', inFlags(plan.reason)]);
  }
  return `${rows.map(([label, value]) => `${paint(1, label.padEnd(15))}${value}`).join('\n')}\n`;
}

/** One line for a change seen by `--watch`. */
export function eventLine(event: MemoryEvent): string {
  const { report } = event;
  switch (event.type) {
    case 'limit': {
      const origin =
        report.limitSource === null ? 'no limit' : `${report.limitSource}: ${report.limitOrigin}`;
      return `limit ${gb(event.previousBytes)} -> ${gb(report.totalBytes)} (${origin})`;
    }
    case 'pressure':
      if (event.source === 'psi') return `pressure ${event.level} avg10=${event.value.toFixed(2)}%`;
      if (event.source === 'working-set') {
        return `pressure working set ${(event.value * 100).toFixed(1)}% of the limit`;
      }
      return `pressure headroom ${gb(event.value)}: next to no memory left`;
    case 'events':
      return `events ${Object.entries(event.delta)
        .map(([name, rise]) => `${name}+${rise}`)
        .join(' ')}`;
  }
}

/** One line for a new plan seen by `--watch`: the old chunk size, where one was shown, and the new. */
export function planLine(plan: FitPlan, previous: FitPlan | undefined): string {
  const to = `${plan.decision.strategy} ${grouped(plan.chunkPoints)}`;
  const change =
    previous === undefined
      ? to
      : `${previous.decision.strategy} ${grouped(previous.chunkPoints)} -> ${to}`;
  return `plan ${change} points per chunk (budget ${gb(plan.thresholdBytes)}, Jacobian ${gb(plan.chunkJacobianBytes)})`;
}
