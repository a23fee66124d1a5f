/** An answer kept for reuse, and what must still hold for it to be the answer. */
export interface MemoEntry {
  /** The answer's text (a response's large JSON array). */
  json: string;
  /** What the answer was computed from, as the source's snapshot saw it; equal tags, equal answers. */
  tag: string;
  /** When it was stored (the clock's ms): an entry older than `maxAgeMs` is not used. */
  storedAtMs: number;
}

export interface AnswerMemoOptions {
  /** Bytes of answers held at once, all tenants together (strings counted at 2 bytes a character). */
  maxBytes: number;
  /** The most one tenant may hold: a tenant asking many questions evicts its own answers, not others'. */
  tenantMaxBytes: number;
  /** An entry is not used after this long, whatever its tag says. */
  maxAgeMs: number;
}

interface Held extends MemoEntry {
  tenantId: string;
  key: string;
  bytes: number;
}

/** Per entry beyond its strings: the objects and the two maps' slots. */
const ENTRY_OVERHEAD_BYTES = 256;

/**
 * Answers of span reads kept in query-api's memory (decision 0103), bounded in bytes, with a share
 * per tenant; over a bound, the least recently used answer of the tenant over its share, or else of
 * the tenant holding the most, goes first. The memo decides nothing about validity except age: the
 * caller stores each answer with a tag of what it was computed from and compares the tag it reads
 * now (`get` returns the entry, `use` counts the hit). Keys must start with the tenant: the memo also
 * files entries by `tenantId`, but never looks one up across tenants because keys differ.
 */
export class AnswerMemo {
  readonly #options: AnswerMemoOptions;
  readonly #now: () => number;
  /** Every entry by key (recency is kept per tenant, below). */
  readonly #entries = new Map<string, Held>();
  /** Each tenant's entries, least recently used first, and its bytes. */
  readonly #tenants = new Map<string, { entries: Map<string, Held>; bytes: number }>();
  #bytes = 0;

  constructor(options: AnswerMemoOptions, now: () => number) {
    this.#options = options;
    this.#now = now;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The entry under `key` if it is young enough; an older one is dropped. */
  get(key: string): MemoEntry | undefined {
    const held = this.#entries.get(key);
    if (!held) return undefined;
    if (this.#now() - held.storedAtMs > this.#options.maxAgeMs) {
      this.#remove(held);
      return undefined;
    }
    return held;
  }

  /** The entry under `key` answered a read: it becomes the most recently used. */
  use(key: string): void {
    const held = this.#entries.get(key);
    if (!held) return;
    // A Map keeps insertion order: re-inserting makes the entry its tenant's most recently used.
    const tenant = this.#tenants.get(held.tenantId);
    tenant?.entries.delete(key);
    tenant?.entries.set(key, held);
  }

  /** Stores an answer (replacing any under `key`), then evicts until both bounds hold. */
  set(tenantId: string, key: string, json: string, tag: string): void {
    const existing = this.#entries.get(key);
    if (existing) this.#remove(existing);
    const bytes = 2 * (json.length + key.length + tag.length) + ENTRY_OVERHEAD_BYTES;
    if (bytes > this.#options.tenantMaxBytes || bytes > this.#options.maxBytes) return;
    const held: Held = { json, tag, storedAtMs: this.#now(), tenantId, key, bytes };
    let tenant = this.#tenants.get(tenantId);
    if (!tenant) {
      tenant = { entries: new Map(), bytes: 0 };
      this.#tenants.set(tenantId, tenant);
    }
    tenant.entries.set(key, held);
    tenant.bytes += bytes;
    this.#entries.set(key, held);
    this.#bytes += bytes;
    while (tenant.bytes > this.#options.tenantMaxBytes) this.#remove(tenant.entries.values().next().value as Held);
    // Over the whole bound, the tenant holding the most gives up its least recently used answer: a
    // tenant filling its share with new questions pushes out its own answers before a neighbour's
    // (taking the least recently used overall let it flush every other tenant; hostile review).
    while (this.#bytes > this.#options.maxBytes) this.#remove(this.#largestTenantsOldest());
  }

  #largestTenantsOldest(): Held {
    let largest: { entries: Map<string, Held>; bytes: number } | undefined;
    for (const tenant of this.#tenants.values()) if (!largest || tenant.bytes > largest.bytes) largest = tenant;
    return (largest as { entries: Map<string, Held> }).entries.values().next().value as Held;
  }

  #remove(held: Held): void {
    this.#entries.delete(held.key);
    this.#bytes -= held.bytes;
    const tenant = this.#tenants.get(held.tenantId);
    if (!tenant) return;
    tenant.entries.delete(held.key);
    tenant.bytes -= held.bytes;
    if (tenant.entries.size === 0) this.#tenants.delete(held.tenantId);
  }
}
