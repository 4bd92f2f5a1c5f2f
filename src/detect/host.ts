import { builtin } from '../core/builtins.js';
import { cachePerObject, type Outcome } from '../core/cache.js';
import { now } from '../core/clock.js';
import { logger } from '../core/diagnostics.js';
import { type Reading, unknown } from '../core/reading.js';
import type { DetectionMethod } from '../core/types.js';
import { osTotal, type SystemInformationLike, systemInformationMemory } from '../sources/host.js';
import { loadSystemInformation } from '../sources/systemInformation.js';
import type { HostProbes, ResolvedDetect } from './detectOptions.js';

/** Host RAM, and the source that gave it. */
export interface HostMemory {
  bytes: number;
  method: DetectionMethod;
  /** systeminformation's `available` when it answered: on macOS `os.freemem()` counts free pages only. */
  available: Reading;
}

const log = logger('detect');
// systeminformation asks PowerShell on Windows, where os.freemem() is the available figure anyway.
const REFRESH_AVAILABLE = process.platform !== 'win32';
const NOT_ASKED = unknown('systeminformation not asked');

const cacheFor = cachePerObject<HostMemory | null>(1);
const syncCache = new WeakMap<HostProbes, HostMemory>();

const importSystemInformation = (): Promise<SystemInformationLike> =>
  loadSystemInformation<SystemInformationLike>('memory');

/** Host RAM from `os.totalmem()`, or `null` when it gives no positive whole number. */
function hostFromOs(probes: HostProbes): HostMemory | null {
  const total = osTotal(probes.totalmem ?? builtin('node:os').totalmem);
  if (total.kind === 'bytes') return { bytes: total.bytes, method: 'os', available: NOT_ASKED };
  log('os.totalmem(): %s', total.kind === 'unknown' ? total.reason : 'no figure');
  return null;
}

/** Asks systeminformation, else `os.totalmem()`; a known systeminformation total outlives a failure. */
async function detectHost(
  previous: HostMemory | null | undefined,
  probes: HostProbes,
  timeoutMs: number,
): Promise<Outcome<HostMemory | null>> {
  const started = now();
  const answer = await systemInformationMemory(
    probes.loadSystemInformation ?? importSystemInformation,
    timeoutMs,
  );
  let outcome: Outcome<HostMemory | null>;
  if (answer !== undefined && answer.total.kind === 'bytes') {
    const memory: HostMemory = {
      bytes: answer.total.bytes,
      method: 'systeminformation',
      // Kept for the process where it is not asked again: its available figure would go stale.
      available: REFRESH_AVAILABLE ? answer.available : unknown('not asked again on Windows'),
    };
    outcome = { value: memory, ok: true, keep: !REFRESH_AVAILABLE };
  } else {
    // Host RAM does not change: what systeminformation said stays, what is available now does not.
    const value =
      previous?.method === 'systeminformation'
        ? { ...previous, available: unknown('systeminformation failed') }
        : hostFromOs(probes);
    outcome = { value, ok: false };
  }
  const host = outcome.value;
  log(
    'host %o bytes from %s in %s ms',
    host?.bytes,
    host?.method ?? 'nothing',
    (now() - started).toFixed(2),
  );
  return outcome;
}

/**
 * Host RAM: systeminformation within `timeoutMs`, else `os.totalmem()`. Reused for `ttlMs`
 * (for a fresh available figure); a failed systeminformation is asked again after a delay that
 * backs off. Concurrent callers share one detection.
 */
export async function hostMemory(options: ResolvedDetect): Promise<HostMemory | null> {
  const { probes, timeoutMs, ttlMs, refresh } = options;
  const host = await cacheFor(probes).get('host', ttlMs, refresh, (previous) =>
    detectHost(previous, probes, timeoutMs),
  );
  return host ?? hostFromOs(probes); // a null is never final: os is cheap
}

/** Host RAM from `os.totalmem()` only, kept for the process (it does not change). */
export function hostMemorySync({ probes, refresh }: ResolvedDetect): HostMemory | null {
  const kept = refresh ? undefined : syncCache.get(probes);
  if (kept !== undefined) return kept;
  const host = hostFromOs(probes);
  if (host !== null) syncCache.set(probes, host);
  return host;
}
