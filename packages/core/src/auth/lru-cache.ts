/**
 * A bounded map that evicts the least recently used entry: a Map keeps insertion order, so a hit is
 * moved to the end and the first entry is the eldest. Small enough not to take a dependency for.
 */
export class LruCache<K, V> {
  readonly #max: number;
  readonly #entries = new Map<K, V>();

  constructor(maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    this.#max = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The value, marked as just used. */
  get(key: K): V | undefined {
    const value = this.#entries.get(key);
    if (value === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value as K);
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }

  /** Deletes every entry whose value matches; a full scan, for rare events such as a revocation. */
  deleteWhere(match: (value: V) => boolean): void {
    for (const [key, value] of this.#entries) if (match(value)) this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
