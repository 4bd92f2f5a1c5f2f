// Recording and reading what fits taught: loaded on first use by `recordFitPeak` and
// `readCalibration`, so that importing the library does not parse it.

import { warnOnce } from '../core/diagnostics.js';
import {
  type CalibrationEntry,
  entryOf,
  findEntry,
  withObservation,
} from '../policy/calibration.js';
import type { NLSQStrategy } from '../policy/strategy.js';
import { LOCK_TIMING } from '../sources/calibrationLock.js';
import { readStore, updateStore, type WriteIo } from '../sources/calibrationWrite.js';

/** Where an observation is kept: the model, and the plan's strategy and element size. */
interface At {
  key: string;
  strategy: NLSQStrategy;
  bytesPerElement: number;
}

/**
 * Adds `overhead` to its entry in the file at `path` (nothing when `null`); the entry as it is
 * then. Where the file's lock stays held past its wait, nothing is written (never without the
 * lock), with warning `NLSQ_MEMORY_CALIBRATION_SKIPPED`.
 */
export async function record(
  path: string,
  at: At,
  overhead: number | null,
  io?: WriteIo,
): Promise<CalibrationEntry> {
  const written =
    overhead === null
      ? undefined
      : await updateStore(path, (old) => withObservation(old, at, overhead, Date.now()), io);
  if (overhead !== null && written === undefined) {
    const seconds = (io?.timing ?? LOCK_TIMING).waitMs / 1000;
    warnOnce(
      'NLSQ_MEMORY_CALIBRATION_SKIPPED',
      `Nothing recorded for ${at.key}: another writer held ${path}.lock for ${seconds} s`,
      'lock',
    );
  }
  const store = written ?? (await readStore(path));
  return entryOf(at.key, findEntry(store, at.key, at.strategy, at.bytesPerElement)?.observations);
}

/** The entry of `key` in the file at `path`: of this strategy and element size, else the latest. */
export async function read(
  path: string,
  key: string,
  strategy: NLSQStrategy | undefined,
  bytesPerElement: number | undefined,
): Promise<CalibrationEntry> {
  const store = await readStore(path);
  return entryOf(key, findEntry(store, key, strategy, bytesPerElement)?.observations);
}
