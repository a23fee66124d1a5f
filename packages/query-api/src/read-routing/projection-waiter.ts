import { AppError, type Clock, type Queryable } from '@strata/core';
import type { Counter } from 'prom-client';
import { selectAppliedOf } from '../queries/select-applied-of.ts';

export interface ProjectionWaiterOptions {
  /** STRONG_READ_WAIT_MS: how long a read waits for its batches before it is refused (0: never waits). */
  maxWaitMs: number;
  /** How often the one shared probe runs while reads wait. */
  pollMs: number;
  /** Reads of one tenant waiting at once; more are refused at once (each holds a connection). */
  waitersPerTenant: number;
  /** Distinct batches all waiting reads wait for; the shared probe's array never grows past it. */
  maxPendingBatches: number;
}

/** `result`: applied (waited, then read), timeout, refused (a bound), failed (the probe's error). */
export type ProjectionWaitCounter = Counter<'result'>;

interface Waiter {
  tenantId: string;
  pending: Set<string>;
  deadline: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const RETRY_AFTER_SECONDS = '1';

/**
 * Waits, for reads that must reflect acknowledged events (strong, or a token on the primary), until
 * the batches they found staged are applied (decision 0104). However many reads wait, one statement
 * probes `applied_batches` every `pollMs`, for the union of their batches, and only while some read
 * waits: waiting costs the primary one small statement per tick, not one per read. Every wait is
 * bounded in time, per tenant and in batches, so a tenant whose projection is stuck or far behind
 * gets a 503 for its own strong reads and holds no more than its share of connections.
 */
export class ProjectionWaiter {
  readonly #db: Queryable;
  readonly #clock: Clock;
  readonly #options: ProjectionWaiterOptions;
  readonly #waits: ProjectionWaitCounter;
  readonly #waiters = new Set<Waiter>();
  readonly #perTenant = new Map<string, number>();
  /** How many waiters wait for each batch: the union the probe asks for, and its bound. */
  readonly #batches = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(db: Queryable, clock: Clock, options: ProjectionWaiterOptions, waits: ProjectionWaitCounter) {
    this.#db = db;
    this.#clock = clock;
    this.#options = options;
    this.#waits = waits;
  }

  /** The most distinct batches all waiting reads may wait for (MAX_PENDING_BATCHES). */
  get maxPendingBatches(): number {
    return this.#options.maxPendingBatches;
  }

  /** Reads waiting now. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /**
   * Resolves once every one of `batchIds` is applied on the primary; rejects with a 503
   * `projection_pending` when STRONG_READ_WAIT_MS passes first or a bound is reached, or with the
   * probe's error when the primary cannot be asked.
   */
  wait(tenantId: string, batchIds: readonly string[]): Promise<void> {
    if (batchIds.length === 0) return Promise.resolve();
    const fresh = batchIds.filter((id) => !this.#batches.has(id)).length;
    const reason =
      this.#closed ? 'query-api is shutting down'
      : this.#options.maxWaitMs === 0 ? 'STRONG_READ_WAIT_MS is 0'
      : (this.#perTenant.get(tenantId) ?? 0) >= this.#options.waitersPerTenant ? `${this.#options.waitersPerTenant} reads of this tenant are already waiting`
      : this.#batches.size + fresh > this.#options.maxPendingBatches ? 'too many batches are awaited'
      : undefined;
    if (reason !== undefined) {
      this.#waits.inc({ result: 'refused' });
      return Promise.reject(pending(batchIds.length, reason));
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { tenantId, pending: new Set(batchIds), deadline: this.#clock.now() + this.#options.maxWaitMs, resolve, reject };
      this.#waiters.add(waiter);
      this.#perTenant.set(tenantId, (this.#perTenant.get(tenantId) ?? 0) + 1);
      for (const id of waiter.pending) this.#batches.set(id, (this.#batches.get(id) ?? 0) + 1);
      this.#schedule();
    });
  }

  /** Refuses every waiting read (shutdown) and stops probing. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const waiter of [...this.#waiters]) this.#settle(waiter, 'refused', pending(waiter.pending.size, 'query-api is shutting down'));
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#closed || this.#waiters.size === 0) return;
    this.#timer = setTimeout(() => void this.#probe(), this.#options.pollMs);
  }

  async #probe(): Promise<void> {
    try {
      const applied = await selectAppliedOf(this.#db, [...this.#batches.keys()]);
      for (const id of applied) this.#applied(id);
    } catch (error) {
      // The primary cannot say: the read that follows would fail on it too, so fail now.
      for (const waiter of [...this.#waiters]) this.#settle(waiter, 'failed', error);
    }
    const now = this.#clock.now();
    for (const waiter of [...this.#waiters]) {
      if (waiter.pending.size === 0) this.#settle(waiter, 'applied');
      else if (now >= waiter.deadline) this.#settle(waiter, 'timeout', pending(waiter.pending.size, `not applied within STRONG_READ_WAIT_MS (${this.#options.maxWaitMs} ms)`));
    }
    this.#timer = undefined;
    this.#schedule();
  }

  #applied(id: string): void {
    if (!this.#batches.delete(id)) return;
    for (const waiter of this.#waiters) waiter.pending.delete(id);
  }

  #settle(waiter: Waiter, result: 'applied' | 'timeout' | 'refused' | 'failed', error?: unknown): void {
    if (!this.#waiters.delete(waiter)) return;
    const left = (this.#perTenant.get(waiter.tenantId) ?? 1) - 1;
    if (left === 0) this.#perTenant.delete(waiter.tenantId);
    else this.#perTenant.set(waiter.tenantId, left);
    for (const id of waiter.pending) {
      const others = (this.#batches.get(id) ?? 1) - 1;
      if (others === 0) this.#batches.delete(id);
      else this.#batches.set(id, others);
    }
    this.#waits.inc({ result });
    if (result === 'applied') waiter.resolve();
    else waiter.reject(error);
  }
}

/** The 503 a read gets when the events it must reflect are acknowledged but not yet projected. */
function pending(batches: number, why: string): AppError {
  return new AppError(
    503,
    'projection_pending',
    `${batches} acknowledged batch(es) this read must reflect are not projected yet (${why}); retry shortly, or read with consistency=eventual`,
    { headers: { 'retry-after': RETRY_AFTER_SECONDS } },
  );
}
