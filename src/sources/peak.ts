import { builtin } from '../core/builtins.js';
import { logger } from '../core/diagnostics.js';
import { parseInteger } from '../core/numbers.js';
import { readText } from './files.js';
import { locateCgroups } from './mounts.js';

/** A running measurement of the highest memory in use: stop it to read the peak. */
export interface PeakSource {
  source: 'memory.peak' | 'sampled-rss';
  baselineBytes: number;
  /** Ends the measurement: the highest memory in use since it started. */
  stop(): number;
  /** Lets go of what the measurement holds (the descriptor, the timer) without reading it; again, nothing. */
  release(): void;
}

const log = logger('calibration');

/**
 * The cgroup v2 `memory.peak` of this process's own cgroup, reset for this file descriptor
 * (Linux 6.12+: a write through an open `memory.peak` resets the peak it reads from then on);
 * `undefined` where there is none or it cannot be reset.
 */
function cgroupPeak(fsRoot: string): PeakSource | undefined {
  const { join } = builtin('node:path');
  const fs = builtin('node:fs');
  const own = locateCgroups(readText, fsRoot).hierarchies.find(
    ({ version }) => version === 'cgroup-v2',
  );
  if (own === undefined) return undefined;
  const directory = own.directories[0];
  let fd: number;
  try {
    fd = fs.openSync(join(directory, 'memory.peak'), 'r+');
  } catch {
    return undefined;
  }
  try {
    fs.writeSync(fd, 'reset\n', 0);
  } catch (error) {
    log('memory.peak cannot be reset here (Linux before 6.12): %s', error);
    fs.closeSync(fd);
    return undefined;
  }
  const current = (): number | undefined =>
    parseInteger(readText(join(directory, 'memory.current')) ?? '');
  const baselineBytes = current() ?? 0;
  let open = true;
  const release = (): void => {
    if (open) fs.closeSync(fd);
    open = false;
  };
  return {
    source: 'memory.peak',
    baselineBytes,
    stop: () => {
      const buffer = Buffer.alloc(64);
      let text = '';
      try {
        text = buffer.toString('utf8', 0, fs.readSync(fd, buffer, 0, 64, 0));
      } finally {
        release();
      }
      const peak = parseInteger(text);
      return Math.max(peak ?? 0, current() ?? 0, baselineBytes);
    },
    release,
  };
}

/** The process's resident set sampled every `intervalMs`, and its `maxRSS` where it rose. */
function sampledRss(intervalMs: number): PeakSource {
  const rss = (): number => process.memoryUsage.rss();
  const maxRss = (): number => process.resourceUsage().maxRSS * 1024;
  const baselineBytes = rss();
  const maxBefore = maxRss();
  let peak = baselineBytes;
  const timer = setInterval(() => {
    peak = Math.max(peak, rss());
  }, intervalMs).unref();
  return {
    source: 'sampled-rss',
    baselineBytes,
    stop: () => {
      clearInterval(timer);
      peak = Math.max(peak, rss());
      // maxRSS only grows for the life of the process: where it rose, it rose now.
      const maxAfter = maxRss();
      return maxAfter > maxBefore ? Math.max(peak, maxAfter) : peak;
    },
    release: () => clearInterval(timer),
  };
}

/** Starts measuring the highest memory in use: `memory.peak` where it can be reset, else sampled RSS. */
export function startPeak(fsRoot: string, intervalMs: number): PeakSource {
  return cgroupPeak(fsRoot) ?? sampledRss(intervalMs);
}
