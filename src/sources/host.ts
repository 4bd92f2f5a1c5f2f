import { builtin } from '../core/builtins.js';
import { TIMED_OUT, within } from '../core/deadline.js';
import { logger } from '../core/diagnostics.js';
import { fromNumber, type Reading, unknown } from '../core/reading.js';
import type { ReadText } from './mounts.js';

/** The part of systeminformation this library uses. */
export interface SystemInformationLike {
  /** Resolves with an object whose `total` is the RAM in bytes. */
  mem(): Promise<unknown>;
}

/** What systeminformation's `mem()` told. */
export interface SystemInformationMemory {
  total: Reading;
  available: Reading;
}

const log = logger('detect');

/** Calls a probe; a throw is an unknown reading. */
function probe(name: string, read: () => unknown, zeroIsUnlimited: boolean): Reading {
  try {
    return fromNumber(read(), name, zeroIsUnlimited);
  } catch (error) {
    return unknown(`${name} threw: ${String(error)}`);
  }
}

/** A host total: no RAM at all is no answer. */
function total(reading: Reading): Reading {
  return reading.kind === 'bytes' && reading.bytes === 0
    ? unknown(`${reading.origin} gave 0`)
    : reading;
}

/** Host RAM from `os.totalmem()` (or its replacement). */
export function osTotal(totalmem: () => number): Reading {
  return total(probe('os.totalmem()', totalmem, false));
}

/** Host available memory from `os.freemem()`: MemAvailable on Linux; 0 is a reading. */
export function osAvailable(freemem: () => number): Reading {
  return probe('os.freemem()', freemem, false);
}

/** `MemAvailable` of a tree's `/proc/meminfo`; 0 is a reading. */
export function meminfoAvailable(read: ReadText, file: string): Reading {
  const text = read(file);
  if (typeof text !== 'string') return unknown(`${file} is unreadable`);
  const kib = /^MemAvailable:\s+(\d+) kB$/m.exec(text)?.[1];
  return kib === undefined
    ? unknown(`${file} has no MemAvailable`)
    : fromNumber(Number(kib) * 1024, file);
}

/** The most the V8 heap of this process may grow to (or what `heapSizeLimit` says). */
export function heapLimit(heapSizeLimit?: () => number): Reading {
  const read = heapSizeLimit ?? (() => builtin('node:v8').getHeapStatistics().heap_size_limit);
  return probe('the V8 heap limit', read, false);
}

/** Node's own reading of the process's cgroup: 0 and UINT64_MAX (past 2 ** 53) are no limit. */
export function nodeLimit(constrainedMemory: () => number): Reading {
  return probe('process.constrainedMemory()', constrainedMemory, true);
}

/**
 * Host RAM and available memory from systeminformation's `mem()`, within `timeoutMs`;
 * `undefined` when it failed, threw or gave no answer in time. Never rejects.
 */
export async function systemInformationMemory(
  load: () => Promise<SystemInformationLike>,
  timeoutMs: number,
): Promise<SystemInformationMemory | undefined> {
  const answer = await within(async () => {
    try {
      const memory = (await (await load()).mem()) as { total?: unknown; available?: unknown };
      const figures = {
        total: total(fromNumber(memory?.total, 'systeminformation')),
        available: fromNumber(memory?.available, 'systeminformation'),
      };
      if (figures.total.kind !== 'bytes') log('systeminformation gave total %o', memory?.total);
      return figures;
    } catch (error) {
      log('systeminformation failed: %s', error);
      throw error;
    }
  }, timeoutMs);
  if (answer === TIMED_OUT) {
    log('systeminformation gave no answer within %d ms', timeoutMs);
    return undefined;
  }
  return answer.total.kind === 'bytes' ? answer : undefined;
}
