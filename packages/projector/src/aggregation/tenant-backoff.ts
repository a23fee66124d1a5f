/** Waits after a tenant's refresh transaction failed: doubling from `initialMs` up to `maxMs`. */
export interface TenantBackoffOptions {
  initialMs?: number;
  maxMs?: number;
}

/**
 * Which tenants the refresher leaves alone for now because their last transaction failed (a minute
 * too costly for the statement timeout, a constraint, a bug). A failing tenant must not fail the
 * round or hold back the others: the round goes on to the next tenant, and the failing one is tried
 * again after a wait that doubles with each failure, so it costs the others at most one failed
 * transaction per wait. Its minutes stay noted meanwhile and reads answer them live, exact. One per
 * refresher process; a success forgets the tenant.
 */
export class TenantBackoff {
  readonly #until = new Map<string, { at: number; waitMs: number }>();
  readonly #initialMs: number;
  readonly #maxMs: number;

  constructor(options: TenantBackoffOptions = {}) {
    this.#initialMs = options.initialMs ?? 1_000;
    this.#maxMs = options.maxMs ?? 300_000;
  }

  /** Whether `tenantId` should be skipped at `now` (epoch ms). */
  waiting(tenantId: string, now: number): boolean {
    const entry = this.#until.get(tenantId);
    return entry !== undefined && now < entry.at;
  }

  failed(tenantId: string, now: number): number {
    const previous = this.#until.get(tenantId);
    const waitMs = previous ? Math.min(previous.waitMs * 2, this.#maxMs) : this.#initialMs;
    this.#until.set(tenantId, { at: now + waitMs, waitMs });
    return waitMs;
  }

  succeeded(tenantId: string): void {
    this.#until.delete(tenantId);
  }
}
