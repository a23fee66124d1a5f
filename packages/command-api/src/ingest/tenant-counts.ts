/**
 * A count per tenant that forgets a tenant at zero: it holds only the tenants with something in hand
 * (held bytes, held events, large requests in process, MQTT connections), so it is bounded by what is
 * in hand, not by every tenant ever seen.
 */
export class TenantCounts {
  readonly #counts = new Map<string, number>();

  get(tenantId: string): number {
    return this.#counts.get(tenantId) ?? 0;
  }

  has(tenantId: string): boolean {
    return this.#counts.has(tenantId);
  }

  /** Adds `delta` (negative to take away) and returns the new count; at zero or below the tenant is forgotten. */
  add(tenantId: string, delta: number): number {
    const next = this.get(tenantId) + delta;
    if (next > 0) this.#counts.set(tenantId, next);
    else this.#counts.delete(tenantId);
    return next;
  }
}
