/** What {@link within} resolves with when the time budget ran out, or the caller cancelled, first. */
export const TIMED_OUT: unique symbol = Symbol('timed out');

/**
 * Runs one I/O step with a time budget and cancellation: `step` gets a signal that aborts when
 * `ms` have passed or `cancel` aborts, and the answer is its value or {@link TIMED_OUT},
 * whichever comes first. A step that ignores its signal is left behind, never awaited. The timer
 * is cleared as soon as either settles: it neither keeps a finished process alive nor lets it
 * exit before `ms`. A step that throws resolves {@link TIMED_OUT} too: never a rejection.
 */
export async function within<T>(
  step: (signal: AbortSignal) => Promise<T>,
  ms: number,
  cancel?: AbortSignal,
): Promise<T | typeof TIMED_OUT> {
  if (cancel?.aborted === true || ms <= 0) return TIMED_OUT;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let stop: (() => void) | undefined;
  const ended = new Promise<typeof TIMED_OUT>((resolve) => {
    stop = () => {
      controller.abort();
      resolve(TIMED_OUT);
    };
    timer = setTimeout(stop, ms);
    cancel?.addEventListener('abort', stop, { once: true });
  });
  try {
    return await Promise.race([step(controller.signal), ended]);
  } catch {
    return TIMED_OUT;
  } finally {
    clearTimeout(timer);
    if (stop !== undefined) cancel?.removeEventListener('abort', stop);
  }
}
