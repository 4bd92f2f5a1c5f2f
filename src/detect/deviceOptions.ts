import { assertBoolean, assertPositive, assertTimeout, checkEnv } from '../core/check.js';
import type { Schema } from '../core/options.js';
import type { GraphicsInformationLike } from '../sources/gpu/graphics.js';
import { probesField } from './detectOptions.js';

/** Where GPU memory is read from besides the tools on PATH; replace them in tests. */
export interface DeviceProbes {
  /** Loads systeminformation, whose `graphics()` is the last source. Default: a dynamic `import('systeminformation')`. */
  loadSystemInformation?: (() => Promise<GraphicsInformationLike>) | null | undefined;
}

/** Options of {@link detectDeviceMemory}. `null` or `undefined` means "not given". */
export interface DeviceOptions {
  /** Time budget for the whole detection, tools included, in ms. Default: 5000. */
  timeoutMs?: number | null | undefined;
  /** How long free memory is reused before the tool is run again, in ms. Default: 1000. */
  ttlMs?: number | null | undefined;
  /** Detect again now, from the first source. Default: `false`. */
  refresh?: boolean | null | undefined;
  /** The environment: `PATH` (where the tools are looked up) and the `*_VISIBLE_DEVICES` variables. Default: `process.env`. */
  env?: Record<string, string | undefined> | null | undefined;
  /** Sources besides the tools. Each distinct object has its own cache. Default: systeminformation. */
  probes?: DeviceProbes | null | undefined;
  /** Ask systeminformation's `graphics()`, the slowest source, when the tools list nothing. Default: `true`. */
  askSystemInformation?: boolean | null | undefined;
}

/** The options of {@link detectDeviceMemory}, each with its check. */
export const DEVICE_FIELDS: Schema = {
  timeoutMs: assertTimeout,
  ttlMs: (name, value) => assertPositive(name, value, true),
  refresh: assertBoolean,
  env: checkEnv,
  probes: probesField(['loadSystemInformation']),
  askSystemInformation: assertBoolean,
};
