/** What one refresh transaction of a tenant claimed and how long it took. */
export interface ClaimOutcome {
  /** Minutes claimed (at most the size it was given). */
  claimed: number;
  /** The size it was given. */
  size: number;
  elapsedMs: number;
}

export interface ClaimSizesOptions {
  /** A transaction's aim: long enough that its fixed costs are small, short enough that other tenants and stop() wait little. */
  targetMs?: number;
  /** Minutes claimed by a tenant that has no history here. */
  initial?: number;
  max?: number;
}

/**
 * How many noted minutes each tenant's next refresh transaction claims, learned from its last ones.
 * A minute costs what its events cost (a device reporting every half hour, or ten thousand reporting
 * every second), so a fixed count is either far too small for a backlog of quiet minutes (the
 * refresher caught up one month of one device in 180 rounds of 240 minutes) or too large for a busy
 * tenant. A tenant whose claim was full (more minutes are due) gets the size its last transaction
 * suggests for `targetMs`, growing at most fourfold a step; one that emptied its notes goes back to
 * `initial`, so only tenants with a backlog are remembered. One per refresher process: a tenant is
 * refreshed by one process at a time, and a process that has not seen it starts from `initial`.
 */
export class ClaimSizes {
  readonly #sizes = new Map<string, number>();
  readonly #targetMs: number;
  readonly #initial: number;
  readonly #max: number;

  constructor(options: ClaimSizesOptions = {}) {
    this.#targetMs = options.targetMs ?? 500;
    this.#initial = options.initial ?? 240;
    this.#max = options.max ?? 20_160;
  }

  minutesFor(tenantId: string): number {
    return this.#sizes.get(tenantId) ?? this.#initial;
  }

  record(tenantId: string, outcome: ClaimOutcome): void {
    const full = outcome.claimed >= outcome.size;
    const slow = outcome.elapsedMs > this.#targetMs;
    if (!full && !slow) {
      this.#sizes.delete(tenantId);
      return;
    }
    const suggested = Math.floor((outcome.claimed * this.#targetMs) / Math.max(outcome.elapsedMs, 1));
    // Never grow from a claim that was not full: its time says nothing about a larger one.
    const ceiling = full ? Math.min(outcome.size * 4, this.#max) : outcome.size;
    this.#sizes.set(tenantId, Math.max(1, Math.min(suggested, ceiling)));
  }
}
