/** What {@link within} resolves with when the time budget ran out first. */
export const TIMED_OUT: unique symbol = Symbol('timed out');

/**
 * `attempt`'s value, or {@link TIMED_OUT} once `ms` have passed. The timer is cleared as soon as
 * either settles: it neither keeps a finished process alive nor lets it exit before `ms`.
 */
export async function within<T>(attempt: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  try {
    return await Promise.race([attempt, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
