import { now } from './clock.js';

/** What one computation of a cached value gave. */
export interface Outcome<T> {
  /** The value to keep (and to answer with). */
  value: T;
  /** `false` when the source failed: then it is asked again after a delay that backs off. */
  ok: boolean;
  /** Nothing about it can change: kept until a `refresh`. */
  keep?: boolean;
}

interface Entry<T> {
  value: T | undefined;
  /** Failed computations in a row. */
  failures: number;
  /** Monotonic time of the last computation. */
  storedAt: number;
  /** Nothing about the value can change: only a refresh computes it again. */
  kept: boolean;
  /** The computation in flight, shared by concurrent callers. */
  pending: Promise<T> | undefined;
}

/** The longest wait before a failed source is asked again, unless `ttlMs` is longer. */
const MAX_RETRY_MS = 60_000;

// A monotonic clock: a stepped wall clock neither freezes nor floods a cache.

/**
 * Values by key, each reused for `ttlMs`, then computed again; after a failure, asked again
 * after `ttlMs`, then twice that, and so on up to a minute (or `ttlMs`, if longer). At most
 * `capacity` keys: past it, all are forgotten. Host and GPU detection and the limits share it.
 */
export class RetryCache<T> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #capacity: number;

  constructor(capacity = 64) {
    this.#capacity = capacity;
  }

  /**
   * The value for `key`: the kept one while fresh, else `compute(previous)`'s, shared by
   * concurrent callers. Synchronous when nothing is computed or `compute` is.
   */
  get(
    key: string,
    ttlMs: number,
    refresh: boolean,
    compute: (previous: T | undefined) => Outcome<T> | Promise<Outcome<T>>,
  ): T | Promise<T> {
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      if (this.#entries.size >= this.#capacity) this.#entries.clear();
      entry = { value: undefined, failures: 0, storedAt: 0, kept: false, pending: undefined };
      this.#entries.set(key, entry);
    }
    if (entry.pending !== undefined) return entry.pending;
    // The wait is the caller's: a call with a shorter `ttlMs` reads sooner.
    const wait =
      entry.failures === 0
        ? ttlMs
        : Math.max(ttlMs, Math.min(MAX_RETRY_MS, ttlMs * 2 ** (entry.failures - 1)));
    const fresh = entry.kept || now() - entry.storedAt < wait;
    if (!refresh && entry.value !== undefined && fresh) return entry.value;
    const current = entry;
    const store = (outcome: Outcome<T>): T => {
      current.failures = outcome.ok ? 0 : current.failures + 1;
      current.kept = outcome.keep === true;
      current.storedAt = now();
      current.value = outcome.value;
      return outcome.value;
    };
    const outcome = compute(current.value);
    if (!(outcome instanceof Promise)) return store(outcome);
    current.pending = outcome.then(store).finally(() => {
      current.pending = undefined;
    });
    return current.pending;
  }
}

/**
 * One {@link RetryCache} per object (a probes object: each distinct one has its own), made on
 * first use and forgotten with the object.
 */
export function cachePerObject<T>(capacity?: number): (owner: object) => RetryCache<T> {
  const caches = new WeakMap<object, RetryCache<T>>();
  return (owner) => {
    let cache = caches.get(owner);
    if (cache === undefined) {
      cache = new RetryCache<T>(capacity);
      caches.set(owner, cache);
    }
    return cache;
  };
}
