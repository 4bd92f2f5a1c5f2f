export {
  getAdaptiveMemoryThreshold,
  getAdaptiveMemoryThresholdSync,
  type ThresholdOptions,
} from './answer/adaptiveThreshold.js';
export {
  type CalibrationEntry,
  type CalibrationOptions,
  type ReadCalibrationOptions,
  type RecordFitPeakOptions,
  readCalibration,
  recordFitPeak,
} from './answer/calibrate.js';
export {
  type PeakMeasurement,
  type PeakMeasurementOptions,
  type PeakProbe,
  startPeakMeasurement,
} from './answer/measurePeak.js';
export { type FitPlan, type PlanOptions, planNlsqFit, planNlsqFitSync } from './answer/planFit.js';
export {
  type StrategyOptions,
  selectNlsqStrategy,
  selectNlsqStrategySync,
} from './answer/selectStrategy.js';
export {
  type DeviceCandidate,
  type DeviceMemory,
  type DeviceOptions,
  type DeviceProbes,
  type DeviceSource,
  type DeviceUncertainty,
  type DeviceVendor,
  detectDeviceMemory,
  type GraphicsInformationLike,
} from './detect/devices.js';
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
} from './detect/memoryDetect.js';
export {
  decideNlsqStrategy,
  estimatePeakMemoryGb,
  NLSQStrategy,
  type PeakOptions,
  type StrategyDecision,
} from './policy/strategy.js';
export {
  type AdaptiveThreshold,
  DEFAULT_MEMORY_FRACTION,
  FALLBACK_THRESHOLD_GB,
  type FractionSource,
  GPU_MEMORY_FRACTION_ENV_VAR,
  MAX_MEMORY_FRACTION,
  MEMORY_FRACTION_ENV_VAR,
  MIN_MEMORY_FRACTION,
  type ThresholdBasis,
  type ThresholdInfo,
} from './policy/threshold.js';
export {
  type EventCounts,
  type MemoryEvent,
  type MemoryWatch,
  type PlanWatchOptions,
  type WatchOptions,
  watchMemory,
  watchNlsqStrategy,
} from './watch/watchMemory.js';
