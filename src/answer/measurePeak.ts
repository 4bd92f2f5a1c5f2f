import { assertBetween, assertNonEmptyString } from '../core/check.js';
import { now } from '../core/clock.js';
import { checkOptions } from '../core/options.js';
import { type PeakSource, startPeak } from '../sources/peak.js';

/** What a measurement saw: the highest memory in use, and what was in use when it started. */
export interface PeakMeasurement {
  /** The highest memory in use during the measurement, in bytes. */
  peakBytes: number;
  /** In use when it started, in bytes. */
  baselineBytes: number;
  /** `'memory.peak'`: the cgroup v2 figure, reset for this measurement (Linux 6.12+); `'sampled-rss'`: this process's resident set, sampled, and its `maxRSS`. */
  source: 'memory.peak' | 'sampled-rss';
  /** How long it ran, in ms. */
  durationMs: number;
}

/** A running measurement, from {@link startPeakMeasurement}. */
export interface PeakProbe {
  /** Ends the measurement and gives what it saw; called again, the same. */
  stop(): PeakMeasurement;
}

/** Options of {@link startPeakMeasurement}. `null` means "not given". */
export interface PeakMeasurementOptions {
  /** Where `/proc` and `/sys` are read from. Default: `'/'`. */
  fsRoot?: string | null;
  /** How often the resident set is sampled, in ms, 1 to 10,000. Default: 20. */
  intervalMs?: number | null;
}

/** What measurements nobody stopped hold, let go of once their probe is collected. */
let unstopped: FinalizationRegistry<PeakSource> | undefined;

/**
 * Starts measuring the highest memory in use, for {@link recordFitPeak}: cgroup v2's
 * `memory.peak` of this process's cgroup, reset for this measurement, where the kernel allows
 * (Linux 6.12+); else this process's resident set, sampled every `intervalMs` by a timer that
 * keeps no process alive, and its `maxRSS` where it rose. A probe dropped without `stop()` lets
 * go of its `memory.peak` descriptor or its timer once it is garbage-collected.
 *
 * @param options - `fsRoot` (default `'/'`) and `intervalMs` (default 20).
 * @returns An object whose `stop()` ends the measurement and gives what it saw.
 * @throws TypeError or RangeError for a bad or unknown option.
 * @example
 * ```ts
 * const probe = startPeakMeasurement();
 * const buffers = new Float64Array(1_000_000); // the fit
 * const { peakBytes, baselineBytes, source } = probe.stop();
 * ```
 */
export function startPeakMeasurement(options?: PeakMeasurementOptions | null): PeakProbe {
  const checked = checkOptions<PeakMeasurementOptions>(options, {
    fsRoot: assertNonEmptyString,
    intervalMs: (name, value) => assertBetween(name, value, [1, 10_000], true),
  });
  const started = now();
  const probe = startPeak(checked.fsRoot ?? '/', checked.intervalMs ?? 20);
  let measured: PeakMeasurement | undefined;
  // `stop` names a token of its own, not the probe: nothing it holds keeps the probe alive.
  const token = {};
  const handle: PeakProbe = {
    stop: () => {
      measured ??= {
        peakBytes: probe.stop(),
        baselineBytes: probe.baselineBytes,
        source: probe.source,
        durationMs: now() - started,
      };
      unstopped?.unregister(token);
      return measured;
    },
  };
  // A probe dropped without `stop()` lets go of its descriptor and timer when collected.
  unstopped ??= new FinalizationRegistry((source) => source.release());
  unstopped.register(handle, probe, token);
  return handle;
}
