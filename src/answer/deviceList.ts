// The check of a device list given as `devices`: every figure an answer reads from it.
import {
  assertBoolean,
  assertCount,
  assertCountOrNull,
  assertObject,
  assertOneOf,
  expected,
} from '../core/check.js';

const VENDORS = ['nvidia', 'amd', 'other'] as const;
const REASONS = ['order', 'uuid'] as const;

/** Checks an entry's `uncertain`: why, and the GPUs it may be, each with the figures a budget takes. */
function checkUncertain(name: string, value: unknown): void {
  assertObject(name, value);
  assertOneOf(`${name}.reason`, value.reason, REASONS);
  const { candidates } = value;
  if (!Array.isArray(candidates) || candidates.length === 0) {
    throw expected(TypeError, `${name}.candidates`, 'a non-empty array of GPUs', candidates);
  }
  for (const [position, gpu] of candidates.entries()) {
    const at = `${name}.candidates[${position}]`;
    assertObject(at, gpu);
    assertCount(`${at}.sourceIndex`, gpu.sourceIndex);
    assertCount(`${at}.totalBytes`, gpu.totalBytes);
    assertCountOrNull(`${at}.freeBytes`, gpu.freeBytes);
  }
}

/**
 * Checks a device list given as `devices`: each entry's number, vendor (the order rule reads it)
 * and every figure a budget is made of, its candidates' included. `name` and `uuid` are free text.
 */
export function checkDevices(name: string, value: unknown): void {
  if (!Array.isArray(value)) throw expected(TypeError, name, 'an array of devices', value);
  for (const [position, device] of value.entries()) {
    const at = `${name}[${position}]`;
    assertObject(at, device);
    assertCount(`${at}.index`, device.index);
    assertOneOf(`${at}.vendor`, device.vendor, VENDORS);
    if (device.unifiedMemory !== undefined)
      assertBoolean(`${at}.unifiedMemory`, device.unifiedMemory);
    // A GPU that shares the host's memory has no total of its own.
    if (device.unifiedMemory !== true || device.totalBytes !== null) {
      assertCount(`${at}.totalBytes`, device.totalBytes);
    }
    assertCountOrNull(`${at}.freeBytes`, device.freeBytes);
    if (device.uncertain != null) checkUncertain(`${at}.uncertain`, device.uncertain);
  }
}
