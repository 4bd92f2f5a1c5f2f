// Recording and reading what fits taught: loaded on first use by `recordFitPeak` and
// `readCalibration`, so that importing the library does not parse it.
import {
  type CalibrationEntry,
  entryOf,
  findEntry,
  withObservation,
} from '../policy/calibration.js';
import type { NLSQStrategy } from '../policy/strategy.js';
import { readStore, updateStore } from '../sources/calibrationWrite.js';

/** Where an observation is kept: the model, and the plan's strategy and element size. */
interface At {
  key: string;
  strategy: NLSQStrategy;
  bytesPerElement: number;
}

/** Adds `overhead` to its entry in the file at `path` (nothing when `null`); the entry as it is then. */
export async function record(
  path: string,
  at: At,
  overhead: number | null,
): Promise<CalibrationEntry> {
  const store =
    overhead === null
      ? await readStore(path)
      : await updateStore(path, (current) => withObservation(current, at, overhead, Date.now()));
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
