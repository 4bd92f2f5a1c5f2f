import type { DetectOptions } from '../detect/detectOptions.js';
import type { DeviceProbes } from '../detect/devices.js';

/** Where the command writes, and the environment it reads. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  /** Where `/proc` and `/sys` are read from, replaced in tests. Default: `'/'`. */
  fsRoot?: string;
  /** Sources of host RAM, replaced in tests. Default: systeminformation and `os.totalmem`. */
  probes?: NonNullable<DetectOptions['probes']>;
  /** The last source of GPU memory, replaced in tests. Default: systeminformation's `graphics()`. */
  deviceProbes?: DeviceProbes;
  /** Whether to colour the text output. Default: `false`. */
  color?: boolean;
  /** Whether stderr is a terminal: then `--watch` says that it watches. Default: `false`. */
  interactive?: boolean;
  /** Ends `--watch` (the command's own: Ctrl-C). Default: none. */
  signal?: AbortSignal;
}

/** Colour only on a terminal, and never with `NO_COLOR` set (no-color.org) or `TERM=dumb`. */
export function supportsColor(isTTY: boolean | undefined, env: CliIo['env']): boolean {
  return isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
}
