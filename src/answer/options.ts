import {
  assertCount,
  assertFinite,
  assertObject,
  assertOneOf,
  assertTimeout,
} from '../core/check.js';
import { pick, type Schema } from '../core/options.js';
import type { DeviceMemory, MemoryReport } from '../core/types.js';
import {
  DETECT_FIELDS,
  DETECT_KEYS,
  type DetectOptions,
  probesField,
} from '../detect/detectOptions.js';
import type { DeviceOptions, DeviceProbes } from '../detect/devices.js';
import { PLAN_FIELDS } from '../policy/plan.js';
import { PEAK_FIELDS, type PeakOptions } from '../policy/strategy.js';
import type { ThresholdBasis } from '../policy/threshold.js';
import { type CalibrationOptions, checkCalibration } from './calibrate.js';
import { checkDevices } from './deviceList.js';

/**
 * Options of the threshold functions. `null`, for any of them, means "not given". With `device`,
 * the budget is that GPU's memory: host RAM is not read (unless the GPU shares it), and `fsRoot`,
 * `timeoutMs` and `probes` are checked but unused; `env`, `ttlMs` and `refresh` serve the GPU's
 * detection.
 */
export interface ThresholdOptions extends DetectOptions {
  /**
   * Fraction of memory to allow, clamped to [0.1, 0.9]. Default: `NLSQ_MEMORY_FRACTION`, else
   * 0.75; with `device`, `NLSQ_GPU_MEMORY_FRACTION` first.
   */
  memoryFraction?: number | null;
  /** A known budget in bytes, a positive safe integer (GPU memory, a scheduler's grant, tests); skips detection and is used as a total. */
  totalMemoryBytes?: number | null;
  /** Apply the fraction to the total this process may use, or to what is available now. Default: `'total'`. */
  basis?: ThresholdBasis | null;
  /**
   * A snapshot from {@link detectMemory}: the answer is computed from it, and nothing is detected.
   * Default: detect now.
   */
  report?: MemoryReport | null;
  /**
   * The `index` of a GPU among those of {@link detectDeviceMemory}: the budget is its memory
   * (`totalBytes`, or `freeBytes` with `basis: 'available'`) instead of host RAM; for a GPU with
   * `unifiedMemory`, the host's (`report`, or detected). Where CUDA may number the GPUs otherwise
   * than nvidia-smi, the smallest GPU the index could name. Synchronous functions take it with
   * `devices` (or `totalMemoryBytes`). Default: none (host RAM).
   */
  device?: number | null;
  /** With `device`, a list from {@link detectDeviceMemory}: the GPU is found there, and nothing is detected. Default: detect now. */
  devices?: readonly DeviceMemory[] | null;
  /** Time budget for the GPU's detection, tools included, in ms. Default: 5000. */
  deviceTimeoutMs?: number | null;
  /** Replaces systeminformation, the last source of GPU memory (tests). Default: systeminformation. */
  deviceProbes?: DeviceProbes | null;
}

/** Options of `selectNlsqStrategy`: the threshold's and the peak estimate's. */
export interface StrategyOptions extends ThresholdOptions, PeakOptions {}

/** Options of `planNlsqFit`: those of `selectNlsqStrategy`, and how to size the buffers. `null` means "not given". */
export interface PlanOptions extends StrategyOptions {
  /** Processes or threads sharing this memory, or `'auto'`: Slurm's tasks on this node. Default: 1. */
  workers?: number | 'auto' | null;
  /** Chunk sizes are multiples of this (homodyne: the number of angles). Default: 1. */
  alignTo?: number | null;
  /** `out_of_core`: a chunk's Jacobian × this fits the budget, less what stays resident. Default: `jacobianOverhead` (6.5), so that a chunk never holds more than the decision allows in memory. */
  safetyFactor?: number | null;
  /** `out_of_core`: bytes per point held whole while chunks stream (the int64 index array), taken off the chunks' budget. Default: 8. */
  residentBytesPerPoint?: number | null;
  /** The largest single buffer the fit's target allows, in bytes (a WebGPU binding, wasm32's 4 GiB): no chunk's Jacobian exceeds it. Default: none but the typed-array limit. */
  maxBufferBytes?: number | null;
  /** Chunks below this get a warning: the budget is tight. Default: 10,000 (`out_of_core`), 1,000 (`hybrid_streaming`). */
  minChunkPoints?: number | null;
  /** The largest chunk or batch. Default: 500,000 (`out_of_core`), 100,000 (`hybrid_streaming`). */
  maxChunkPoints?: number | null;
  /** The most elements one typed array may hold. Default: this Node.js's limit for `bytesPerElement`. */
  maxTypedArrayElements?: number | null;
  /**
   * Use the overhead learned for `key` from measured peaks ({@link recordFitPeak}), for the
   * decision and the chunks, once 3 runs are recorded; the reason says which. Default: none.
   */
  calibration?: CalibrationOptions | null;
}

/** Checks a report given as `report`: the figures the answers read from it. */
function checkReport(name: string, value: unknown): void {
  assertObject(name, value);
  assertCount(`${name}.totalBytes`, value.totalBytes);
  if (value.availableBytes !== null) assertCount(`${name}.availableBytes`, value.availableBytes);
}

const BASES = ['total', 'available'] as const;

/** The threshold functions' options, each with its check. */
export const THRESHOLD_FIELDS: Schema = {
  ...DETECT_FIELDS,
  memoryFraction: assertFinite,
  totalMemoryBytes: (name, value) => assertCount(name, value, true),
  basis: (name, value) => assertOneOf(name, value, BASES),
  report: checkReport,
  device: (name, value) => assertCount(name, value),
  devices: checkDevices,
  deviceTimeoutMs: assertTimeout,
  deviceProbes: probesField(['loadSystemInformation']),
};

/** The strategy functions' options, each with its check. */
export const STRATEGY_FIELDS: Schema = { ...THRESHOLD_FIELDS, ...PEAK_FIELDS };

/** The names of {@link ThresholdOptions}. */
export const THRESHOLD_KEYS: readonly (keyof ThresholdOptions)[] = Object.keys(
  THRESHOLD_FIELDS,
) as (keyof ThresholdOptions)[];

/** The names of {@link StrategyOptions}. */
export const STRATEGY_KEYS: readonly (keyof StrategyOptions)[] = Object.keys(
  STRATEGY_FIELDS,
) as (keyof StrategyOptions)[];

/** The planning functions' options, each with its check. */
export const PLANNING_FIELDS: Schema = {
  ...STRATEGY_FIELDS,
  ...PLAN_FIELDS,
  calibration: checkCalibration,
};

/** The options of {@link detectMemory} among threshold options. */
export function detectOptionsOf(options: ThresholdOptions): DetectOptions {
  return pick(options, DETECT_KEYS);
}

/** The options of {@link detectDeviceMemory} that threshold options give. */
export function deviceOptionsOf(options: ThresholdOptions): DeviceOptions {
  const { env, ttlMs, refresh, deviceTimeoutMs, deviceProbes } = options;
  // A probes object without a loader is the default one, and shares its cache.
  const probes = deviceProbes?.loadSystemInformation == null ? undefined : deviceProbes;
  return { env, ttlMs, refresh, timeoutMs: deviceTimeoutMs, probes };
}
