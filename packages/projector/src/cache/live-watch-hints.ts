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
  /** Per tenant, the calls sent without deltas whose replies are not handled yet (write-through-states.ts). */
  readonly #unsettled = new Map<string, Set<Promise<void>>>();

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

  /**
   * Notes a call of the tenant sent without deltas; the returned function says its reply was handled
   * (and any resend queued). Entries exist only while such calls are in flight.
   */
  unsettled(tenantId: string): () => void {
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    let calls = this.#unsettled.get(tenantId);
    if (!calls) this.#unsettled.set(tenantId, (calls = new Set()));
    calls.add(mine);
    const all = calls;
    return () => {
      release();
      all.delete(mine);
      if (all.size === 0 && this.#unsettled.get(tenantId) === all) this.#unsettled.delete(tenantId);
    };
  }

  /**
   * Resolves when every call of the tenant sent without deltas *so far* has been handled; undefined when
   * none is in flight. Calls noted later are not waited for: waits only ever point at earlier calls, so
   * two write-throughs can never wait for each other.
   */
  settled(tenantId: string): Promise<void> | undefined {
    const calls = this.#unsettled.get(tenantId);
    return calls ? Promise.all([...calls]).then(() => undefined) : undefined;
  }

  /** Tenants currently believed unwatched (read by tests: the bound and its order). */
  get size(): number {
    return this.#unwatched.size;
  }
}
