// A bounded in-process cache with per-entry expiry and tag-based invalidation, for the
// verified-credential and live-role caches (shared/BENCHMARKS.md: a cache of verified
// credentials is mandatory). Oldest entries are dropped first when it is full.
//
// Invalidation races a lookup that is still reading the database: a reader takes a ticket
// before its read and stores the result only if no invalidation happened since, so a value
// read before a revocation committed can never be cached after the revocation was announced.

export interface TtlCacheOptions {
  /** Most entries held; 0 disables the cache (every get misses, every set is dropped). */
  readonly maxEntries: number;
}

interface Entry<V> {
  readonly value: V;
  readonly expiresAt: number;
  readonly tags: readonly string[];
}

export class TtlCache<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #byTag = new Map<string, Set<string>>();
  readonly #maxEntries: number;
  #generation = 0;

  constructor(options: TtlCacheOptions) {
    this.#maxEntries = options.maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The value, if present and not expired at `now`. */
  get(key: string, now: number): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (now >= entry.expiresAt) {
      this.#remove(key, entry);
      return undefined;
    }
    return entry.value;
  }

  /** Taken before reading the source of a value; pass it to set(). */
  ticket(): number {
    return this.#generation;
  }

  /**
   * Stores the value until `expiresAt`, filed under `tags` for invalidation. Ignored when an
   * invalidation happened after `ticket` was taken, or the entry would already be expired.
   */
  set(key: string, value: V, expiresAt: number, tags: readonly string[], ticket: number, now: number): void {
    if (this.#maxEntries === 0 || ticket !== this.#generation || expiresAt <= now) return;
    const previous = this.#entries.get(key);
    if (previous) this.#remove(key, previous);
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#remove(oldest.value, this.#entries.get(oldest.value)!);
    }
    this.#entries.set(key, { value, expiresAt, tags });
    for (const tag of tags) {
      let keys = this.#byTag.get(tag);
      if (!keys) {
        keys = new Set();
        this.#byTag.set(tag, keys);
      }
      keys.add(key);
    }
  }

  /** Drops every entry filed under `tag`. */
  invalidateTag(tag: string): void {
    this.#generation += 1;
    const keys = this.#byTag.get(tag);
    if (!keys) return;
    for (const key of [...keys]) {
      const entry = this.#entries.get(key);
      if (entry) this.#remove(key, entry);
    }
    this.#byTag.delete(tag);
  }

  /** Drops everything, e.g. when invalidations may have been missed. */
  clear(): void {
    this.#generation += 1;
    this.#entries.clear();
    this.#byTag.clear();
  }

  #remove(key: string, entry: Entry<V>): void {
    this.#entries.delete(key);
    for (const tag of entry.tags) {
      const keys = this.#byTag.get(tag);
      if (!keys) continue;
      keys.delete(key);
      if (keys.size === 0) this.#byTag.delete(tag);
    }
  }
}
