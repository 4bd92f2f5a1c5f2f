export {
  type DeviceMemory,
  type DeviceOptions,
  type DeviceProbes,
  type DeviceSource,
  type DeviceVendor,
  detectDeviceMemory,
  type GraphicsInformationLike,
} from './device.js';
export {
  type DetectionMethod,
  type DetectOptions,
  detectMemory,
  detectMemorySync,
  detectTotalSystemMemory,
  type HostProbes,
  type LimitSource,
  type MemoryReport,
  type SystemInformationLike,
} from './memoryDetect.js';
export { type FitPlan, type PlanOptions, planNlsqFit, planNlsqFitSync } from './plan.js';
export type { EventCounts } from './pressure.js';
export {
  decideNlsqStrategy,
  estimatePeakMemoryGb,
  NLSQStrategy,
  type PeakOptions,
  type StrategyDecision,
  type StrategyOptions,
  selectNlsqStrategy,
  selectNlsqStrategySync,
} from './strategy.js';
export {
  type AdaptiveThreshold,
  DEFAULT_MEMORY_FRACTION,
  FALLBACK_THRESHOLD_GB,
  type FractionSource,
  GPU_MEMORY_FRACTION_ENV_VAR,
  getAdaptiveMemoryThreshold,
  getAdaptiveMemoryThresholdSync,
  MAX_MEMORY_FRACTION,
  MEMORY_FRACTION_ENV_VAR,
  MIN_MEMORY_FRACTION,
  type ThresholdBasis,
  type ThresholdInfo,
  type ThresholdOptions,
} from './threshold.js';
export {
  type MemoryEvent,
  type MemoryWatch,
  type PlanWatchOptions,
  type WatchOptions,
  watchMemory,
  watchNlsqStrategy,
} from './watch.js';
