/** The source that produced the host's RAM figure. */
export type DetectionMethod = 'systeminformation' | 'os';

/** Where a memory limit below host RAM came from. */
export type LimitSource = 'cgroup-v2' | 'cgroup-v1' | 'slurm' | 'node';

/** How much memory this process may use, and where each figure came from. */
export interface MemoryReport {
  /** Physical RAM, from systeminformation or `os.totalmem()`; `null` when neither answered. */
  hostTotalBytes: number | null;
  /** Which source actually produced `hostTotalBytes`; `null` when neither answered. */
  detectionMethod: DetectionMethod | null;
  /** The tightest container or scheduler limit below `hostTotalBytes`, else `null`. */
  limitBytes: number | null;
  /** Where `limitBytes` came from. */
  limitSource: LimitSource | null;
  /** The file or variable that set `limitBytes`: a cgroup file path or a Slurm variable. */
  limitOrigin: string | null;
  /** `min(hostTotalBytes, limitBytes)`: what this process may use. */
  totalBytes: number;
  /** Usable now: the smallest of host available memory, the headroom of every limited cgroup above this process, and `totalBytes`; `null` when none is known. */
  availableBytes: number | null;
  /** The most the V8 heap may grow to (`v8.getHeapStatistics().heap_size_limit`): set from physical RAM, not from the limit. */
  heapLimitBytes: number | null;
}

/** Who made a GPU. */
export type DeviceVendor = 'nvidia' | 'amd' | 'other';

/** The source that reported a GPU's memory. */
export type DeviceSource = 'nvidia-smi' | 'rocm-smi' | 'systeminformation';

/** The memory of one GPU this process can use. */
export interface DeviceMemory {
  /**
   * The device's number among the visible devices, from 0: the number CUDA or HIP gives it (for
   * NVIDIA, in nvidia-smi's PCI bus order, as with `CUDA_DEVICE_ORDER=PCI_BUS_ID`; MIG instances
   * as `nvidia-smi -L` lists them).
   */
  index: number;
  /**
   * The device's UUID (`GPU-…`, `MIG-…` for a MIG instance) from nvidia-smi, or `GPU-` and the
   * unique ID rocm-smi gives an AMD card; otherwise `null`.
   */
  uuid: string | null;
  /** The product name (`NVIDIA H100 80GB HBM3`, `… MIG 3g.40gb`), or rocm-smi's card name (`card0`). */
  name: string;
  /** Who made it. */
  vendor: DeviceVendor;
  /** Its memory, in bytes; `null` for a GPU that shares the host's memory (`unifiedMemory`). */
  totalBytes: number | null;
  /** Its memory not in use now, in bytes; `null` where unknown (some drivers, unified memory). */
  freeBytes: number | null;
  /** Whether it allocates from the host's memory (GB10, Jetson): then its budget is the host's. */
  unifiedMemory: boolean;
  /** The source that reported it. */
  source: DeviceSource;
  /**
   * Set where the GPU the runtime will use cannot be told for sure: the GPUs it may be. A budget
   * on it takes the smallest of them. Absent where the device is exact.
   */
  uncertain?: DeviceUncertainty;
}

/** A GPU of the node that a device may be, as its source numbers and reports it. */
export interface DeviceCandidate {
  /** The source's own number for it: nvidia-smi's index (PCI bus order), rocm-smi's card number. */
  sourceIndex: number;
  /** Its UUID, where the source gives one. */
  uuid: string | null;
  /** Its name, as in {@link DeviceMemory}. */
  name: string;
  /** Its memory, in bytes. */
  totalBytes: number;
  /** Its memory not in use now, in bytes; `null` where unknown. */
  freeBytes: number | null;
}

/** Why a device may be another GPU than the one listed, and which GPUs it may be. */
export interface DeviceUncertainty {
  /**
   * `'order'`: an index in `CUDA_VISIBLE_DEVICES` (or none) counts GPUs in CUDA's order, fastest
   * first, which may not be nvidia-smi's; `'uuid'`: a UUID in a `*_VISIBLE_DEVICES` variable
   * matched no GPU, and its source gave no UUID for these (the device is listed as the smallest).
   */
  reason: 'order' | 'uuid';
  /** Every GPU it may be: for `'order'` itself included, at least two. */
  candidates: readonly DeviceCandidate[];
}

/** The strategies' names, lightest on memory first: the one list `NLSQStrategy` holds, for the layers below it. */
export const STRATEGIES: readonly ['standard', 'out_of_core', 'hybrid_streaming'] = [
  'standard',
  'out_of_core',
  'hybrid_streaming',
];

/** The observations kept for one model, strategy and element size in the calibration file. */
export interface StoredEntry {
  key: string;
  strategy: (typeof STRATEGIES)[number];
  bytesPerElement: number;
  /** Observed overheads, oldest first. */
  observations: number[];
  /** When the last one was recorded (ms since the epoch). */
  updatedAt: number;
}

/** What the calibration file holds. */
export interface CalibrationStore {
  version: 1;
  entries: StoredEntry[];
}
