import type { MemoryWatch } from './options.js';

/** Merges a new value into one consumer's pending values, keeping them few (bounded memory). */
export type Coalesce<T> = (pending: T[], value: T) => void;

type Waiter<T> = [(result: IteratorResult<T, undefined>) => void, (error: unknown) => void];

/** One `for await`: its own pending values and waiting `next()` calls. */
class Consumer<T> implements AsyncIterableIterator<T> {
  readonly pending: T[] = [];
  readonly waiters: Waiter<T>[] = [];
  failure: { error: unknown } | undefined;
  ended = false;
  readonly #hub: Hub<T>;

  constructor(hub: Hub<T>) {
    this.#hub = hub;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    const value = this.pending.shift();
    if (value !== undefined) return Promise.resolve({ value, done: false });
    if (this.failure !== undefined) {
      const { error } = this.failure;
      this.failure = undefined;
      return Promise.reject(error);
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    const waiting = new Promise<IteratorResult<T, undefined>>((resolve, reject) => {
      this.waiters.push([resolve, reject]);
    });
    this.#hub.demandChanged();
    return waiting;
  }

  /** Ends this consumer only (a `break`); the others go on. */
  return(): Promise<IteratorResult<T, undefined>> {
    this.end();
    this.#hub.remove(this);
    return Promise.resolve({ value: undefined, done: true });
  }

  end(): void {
    this.ended = true;
    this.pending.length = 0;
    for (const [resolve] of this.waiters.splice(0)) resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** What a hub needs from the poller behind it. */
export interface HubHooks<T> {
  /** Merges values a consumer has not read yet. */
  coalesce: Coalesce<T>;
  /** The value a new consumer starts with (the current plan), if any. */
  initial?: () => T | undefined;
  /** Called when whether any consumer awaits a value changes: keep the process alive, or not. */
  demand: (waiting: boolean) => void;
  /** Called once when the watch closes: stop polling. */
  stop: () => void;
}

/**
 * Values polled once and shared: each consumer (each `for await`) sees every value published
 * from the moment it starts, coalesced while it does not read, so that a late reader gets the
 * present and memory stays bounded; `break` ends one consumer, `close()` all.
 */
export class Hub<T> {
  readonly #consumers = new Set<Consumer<T>>();
  readonly #hooks: HubHooks<T>;
  #closed = false;
  #waiting = false;

  constructor(hooks: HubHooks<T>) {
    this.#hooks = hooks;
  }

  /** Whether the watch has ended for all. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Whether any consumer awaits a value now. */
  get waiting(): boolean {
    return this.#waiting;
  }

  /** A new consumer, from now on. After `close()`, one that is done at once. */
  consumer(): Consumer<T> {
    const consumer = new Consumer(this);
    if (this.#closed) {
      consumer.ended = true;
      return consumer;
    }
    const initial = this.#hooks.initial?.();
    if (initial !== undefined) consumer.pending.push(initial);
    this.#consumers.add(consumer);
    return consumer;
  }

  /** Hands `value` to every consumer: to its waiting `next()`, else into its pending values. */
  publish(value: T): void {
    for (const consumer of this.#consumers) {
      const waiter = consumer.waiters.shift();
      if (waiter === undefined) this.#hooks.coalesce(consumer.pending, value);
      else waiter[0]({ value, done: false });
    }
    this.demandChanged();
  }

  /** Ends the watch with `error`: each consumer's next `next()` rejects with it, once. */
  fail(error: unknown): void {
    if (this.#closed) return;
    for (const consumer of this.#consumers) {
      const waiter = consumer.waiters.shift();
      if (waiter === undefined) consumer.failure = { error };
      else waiter[1](error);
    }
    this.close();
  }

  /** Ends the watch for every consumer. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const consumer of this.#consumers) consumer.end();
    this.#consumers.clear();
    this.#hooks.stop();
    this.demandChanged();
  }

  /** Forgets a consumer that ended. */
  remove(consumer: Consumer<T>): void {
    this.#consumers.delete(consumer);
    this.demandChanged();
  }

  /** Tells the poller whether any consumer awaits a value, when that changed. */
  demandChanged(): void {
    let waiting = false;
    for (const consumer of this.#consumers) waiting ||= consumer.waiters.length > 0;
    if (waiting === this.#waiting) return;
    this.#waiting = waiting;
    this.#hooks.demand(waiting);
  }
}

/**
 * The watch a user holds: each `[Symbol.asyncIterator]()` (each `for await`) is a consumer of its
 * own, from then on; `next()` and `return()` called on the watch itself use one more, which
 * starts with the watch.
 */
export function watchOf<T>(hub: Hub<T>): MemoryWatch<T> {
  const own = hub.consumer();
  const watch: MemoryWatch<T> = {
    next: () => own.next(),
    return: () => own.return(),
    close: () => hub.close(),
    [Symbol.asyncIterator]: () => hub.consumer(),
  };
  return watch;
}
