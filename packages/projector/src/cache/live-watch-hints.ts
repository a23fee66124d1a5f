/**
 * What this projector last heard, per tenant, about whether anyone watches the tenant's live updates
 * (decision 0098). Every write-through call reports it (the script reads the tenant's watch mark,
 * decision 0087); while the last report said "unwatched", the projector sends the tenant's states
 * without encoding their live deltas. This is a hint, never the truth: the script still checks the
 * mark itself, and a call that finds the tenant watched after all is answered "resend with deltas"
 * (write-through-states.ts), so a client that arrives meanwhile misses nothing.
 *
 * Only the unwatched tenants are remembered, at most `maxTenants` of them (the least recently
 * reported go first): a tenant not remembered has its deltas encoded, which is the safe default.
 */
export class LiveWatchHints {
  readonly #unwatched = new Set<string>();
  readonly #maxTenants: number;

  constructor(maxTenants = 10_000) {
    if (!Number.isInteger(maxTenants) || maxTenants < 1) throw new RangeError(`LiveWatchHints: maxTenants must be a positive integer, got ${maxTenants}`);
    this.#maxTenants = maxTenants;
  }

  /** Whether to encode the tenant's live deltas: unless the last report said nobody watches. */
  encodeDeltas(tenantId: string): boolean {
    return !this.#unwatched.has(tenantId);
  }

  /** A write-through call's report of the tenant's watch mark. */
  learn(tenantId: string, watched: boolean): void {
    // Deleted first either way, so the Set's order is the order of the last reports.
    this.#unwatched.delete(tenantId);
    if (watched) return;
    this.#unwatched.add(tenantId);
    if (this.#unwatched.size > this.#maxTenants) {
      const oldest = this.#unwatched.values().next().value;
      if (oldest !== undefined) this.#unwatched.delete(oldest);
    }
  }

  /** Tenants currently believed unwatched (for tests and the metric). */
  get size(): number {
    return this.#unwatched.size;
  }
}
