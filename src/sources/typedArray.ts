import { builtin } from '../core/builtins.js';

/** `buffer.constants.MAX_LENGTH` on 64-bit Node.js 18 to 21: V8's limit on any typed array's length. */
const ELEMENT_COUNT_LIMIT = 2 ** 32;

/**
 * The most elements of `bytesPerElement` bytes that one typed array may hold on this Node.js.
 *
 * `buffer.constants.MAX_LENGTH` reflects V8's limit. On 64-bit Node.js 20 it is 2³², a count of
 * elements of any size: `new Float64Array(2 ** 32 + 1)` throws "Invalid typed array length"
 * before allocating. From Node.js 22 (V8 12.4) it is 2⁵³ − 1, the largest byte length
 * (`v8::Uint8Array::kMaxLength`), so wider elements fit fewer: ⌊(2⁵³ − 1) / 8⌋ float64s. A
 * 32-bit build reports a smaller byte figure, divided the same way. Every ArrayBuffer is at most
 * 2⁵³ − 1 bytes.
 *
 * @param bytesPerElement - Bytes per element: 8 for a `Float64Array`.
 * @param maxLength - `buffer.constants.MAX_LENGTH`, replaced in tests.
 * @returns A non-negative safe integer.
 */
export function maxTypedArrayElements(
  bytesPerElement: number,
  maxLength: number = builtin('node:buffer').constants.MAX_LENGTH,
): number {
  const countLimited = maxLength === ELEMENT_COUNT_LIMIT;
  const byteLimit = countLimited ? Number.MAX_SAFE_INTEGER : maxLength;
  const elements = Math.min(Number.MAX_SAFE_INTEGER, Math.floor(byteLimit / bytesPerElement));
  return countLimited ? Math.min(maxLength, elements) : elements;
}
