import { assertPositive } from '../core/check.js';

/**
 * The largest `n` from 0 to 2 ** 53 - 1 for which `fits(n)` holds, given `fits(0)` and that
 * `fits` is monotone; searched from `guess` out, so that a good guess costs a few calls. Exact
 * where floating point makes a closed formula off by one.
 *
 * @throws RangeError for a `guess` that is negative or not finite (a budget that is no number of
 * bytes): the search would not end.
 */
export function largestFitting(fits: (n: number) => boolean, guess: number): number {
  assertPositive('guess', guess, true);
  const max = Number.MAX_SAFE_INTEGER;
  let low = Math.min(max, Math.max(0, Math.floor(guess)));
  for (let step = 1; low > 0 && !fits(low); step *= 2) low = Math.max(0, low - step);
  let high = Math.min(max, low + 1);
  for (let step = 2; fits(high); step *= 2) {
    if (high === max) return max;
    low = high;
    high = Math.min(max, low + step);
  }
  while (high - low > 1) {
    const middle = low + Math.floor((high - low) / 2);
    if (fits(middle)) low = middle;
    else high = middle;
  }
  return low;
}
