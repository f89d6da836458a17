/**
 * A bounded cache for values derived purely from content-addressed input, such as what a
 * document holds at a given set of heads. Because the key names the content (a head set is a
 * hash of every change behind it), a hit is the same answer the derivation would give, so
 * the cache may be shared by every holder of such content in one process — one daemon's
 * readers, or a simulated fleet's thousand nodes holding the same document — without any
 * effect on behaviour. Least recently used entries go first (approximately: see get).
 *
 * Cached values are shared: callers must treat them as immutable (they are frozen where they
 * are built).
 */
export class ContentCache<V> {
  /** In least-recently-refreshed order (Map keeps insertion order); `at` is when it was put there. */
  private readonly entries = new Map<string, { readonly value: V; at: number }>();
  /** Counts insertions and refreshes. */
  private clock = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  /**
   * The cached value for `key`, made most recent. An entry put in place within the last half
   * capacity of insertions and refreshes keeps its place (at least that many others would go
   * first): moving it on every hit was a twentieth of a large simulated fleet's time, for hot
   * entries that could not have been evicted anyway.
   */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (this.clock - entry.at >= this.capacity / 2) {
      this.entries.delete(key);
      this.entries.set(key, entry);
      entry.at = ++this.clock;
    }
    return entry.value;
  }

  /** The cached value for `key` without refreshing its place (a look that should not keep it). */
  peek(key: string): V | undefined {
    return this.entries.get(key)?.value;
  }

  /** The cached value for `key`, computing and storing it on a miss. */
  getOrCompute(key: string, compute: () => V): V {
    const hit = this.get(key);
    if (hit !== undefined) return hit;
    const value = compute();
    this.entries.set(key, { value, at: ++this.clock });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
    return value;
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Freezes a plain-data value and everything inside it; returns it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
