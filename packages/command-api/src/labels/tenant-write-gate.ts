import { unavailable } from '@strata/core';

/**
 * One label write at a time per tenant in this process, with a bounded line behind it. A label write
 * waits for the tenant's label versions lock (up to its lock_timeout) while holding a pool connection, so
 * without this a tenant sending label writes in parallel took every connection of the pool, and its
 * neighbours' event writes failed with 503 (hostile review of issue 13). Writes of one tenant
 * serialize on that lock anyway; here they wait in memory, holding nothing, and past `maxWaiting`
 * they are refused at once (503, retry).
 */
export class TenantWriteGate {
  readonly #lines = new Map<string, { tail: Promise<void>; pending: number }>();
  readonly #maxWaiting: number;

  constructor(maxWaiting = 16) {
    this.#maxWaiting = maxWaiting;
  }

  async run<T>(tenantId: string, write: () => Promise<T>): Promise<T> {
    const line = this.#lines.get(tenantId) ?? { tail: Promise.resolve(), pending: 0 };
    if (line.pending > this.#maxWaiting) throw unavailable("too many label writes of this tenant are waiting; retry");
    line.pending++;
    this.#lines.set(tenantId, line);
    const previous = line.tail;
    let release = (): void => undefined;
    line.tail = new Promise<void>((resolve) => (release = resolve));
    try {
      await previous;
      return await write();
    } finally {
      release();
      if (--line.pending === 0) this.#lines.delete(tenantId);
    }
  }

  /** Tenants with a write running or waiting (for tests and metrics). */
  get tenants(): number {
    return this.#lines.size;
  }
}
