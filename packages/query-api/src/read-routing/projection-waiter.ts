import { AppError, CallBatcher, type Logger, type Queryable } from '@strata/core';
import type { Counter } from 'prom-client';
import { selectPendingBatches, selectPendingTokenBatch } from '../queries/select-pending-batches.ts';
import { selectSettledBatches } from '../queries/select-settled-batches.ts';

export interface ProjectionWaiterOptions {
  /** STRONG_READ_WAIT_MS: how long a read waits for its batches; 0 refuses one that would wait. */
  maxWaitMs: number;
  /** The shortest pause between two probes while reads wait (a probe's own duration is the longest). */
  pollMs: number;
  /** Reads of one tenant finding or waiting at once; more are refused at once. */
  readsPerTenant: number;
  /** Distinct batches one tenant's reads wait for at once; a read that would pass it is refused. */
  batchesPerTenant: number;
  /** Staged rows one search reads at most; past it the tenant is too far behind to wait for. */
  stagedRowsPerSearch: number;
}

/** What one read must see projected: its device's batches, its tenant's, or its token's. */
export type ProjectionScope = { kind: 'device'; device: string } | { kind: 'tenant' } | { kind: 'token'; batchId: string };

/**
 * `result`: applied (waited, then read), timeout (STRONG_READ_WAIT_MS passed), busy (the tenant's
 * reads at their bound), backlog (the tenant's batches or staged rows past theirs), off
 * (STRONG_READ_WAIT_MS is 0), shutdown. All but applied are 503s.
 */
export type ProjectionWaitCounter = Counter<'result'>;

type Refusal = 'timeout' | 'busy' | 'backlog' | 'off' | 'shutdown';

interface Waiter {
  tenant: TenantWaits;
  pending: Set<string>;
  deadline: NodeJS.Timeout;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** One tenant's reads in progress: how many, the batches they wait for (with how many wait for each), and its search. */
interface TenantWaits {
  id: string;
  reads: number;
  batches: Map<string, number>;
  search: CallBatcher<ProjectionScope & { kind: 'device' | 'tenant' }, string[] | 'backlog'>;
}

const RETRY_AFTER_SECONDS = '1';

/**
 * Holds strong reads (and token reads on the primary) until the batches they must reflect are
 * applied (decision 0104). Every bound is per tenant, so one tenant far behind, stuck or hostile
 * refuses its own reads and nobody else's:
 *  - finding what to wait for is one statement per tenant at a time (`selectPendingBatches`): reads of
 *    a tenant that arrive while its search runs share the next one, which starts after they arrived
 *    (so it sees everything acknowledged before them); a tenant's reads past `readsPerTenant` are
 *    refused before any statement runs;
 *  - waiting is one statement for every waiting read of every tenant (`selectSettledBatches`), run
 *    only while some read waits, at most every `pollMs` and never more often than it takes to run;
 *  - each read has its own deadline timer: a probe that is slow or failing cannot hold it past it.
 */
export class ProjectionWaiter {
  readonly #db: Queryable;
  readonly #options: ProjectionWaiterOptions;
  readonly #waits: ProjectionWaitCounter;
  readonly #logger: Logger;
  readonly #tenants = new Map<string, TenantWaits>();
  readonly #waiters = new Set<Waiter>();
  #timer: NodeJS.Timeout | undefined;
  #probing = false;
  #lastProbeMs = 0;
  #closed = false;

  constructor(db: Queryable, options: ProjectionWaiterOptions, waits: ProjectionWaitCounter, logger: Logger) {
    this.#db = db;
    this.#options = options;
    this.#waits = waits;
    this.#logger = logger;
  }

  /** Reads waiting for batches now. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /**
   * Resolves once nothing of `scope` acknowledged before this call is left unprojected on the
   * primary; rejects with a 503 `projection_pending` saying why when it will not wait (a bound, the
   * setting, shutdown) or waited STRONG_READ_WAIT_MS in vain; a search that fails rejects with its error.
   */
  async settle(tenantId: string, scope: ProjectionScope): Promise<void> {
    if (this.#closed) throw this.#refuse('shutdown', 'query-api is shutting down');
    const tenant = this.#tenant(tenantId);
    if (tenant.reads >= this.#options.readsPerTenant) {
      throw this.#refuse('busy', `${this.#options.readsPerTenant} strong reads of this tenant are already waiting`);
    }
    tenant.reads++;
    try {
      const found = scope.kind === 'token' ? await selectPendingTokenBatch(this.#db, tenantId, scope.batchId) : await tenant.search.submit(scope);
      if (found === 'backlog') {
        throw this.#refuse('backlog', `more than ${this.#options.stagedRowsPerSearch} of this tenant's events are staged, waiting to be projected`);
      }
      if (found.length === 0) return;
      if (this.#options.maxWaitMs === 0) throw this.#refuse('off', `${found.length} batch(es) this read must reflect are staged and STRONG_READ_WAIT_MS is 0`);
      if (this.#closed) throw this.#refuse('shutdown', 'query-api is shutting down');
      const fresh = found.filter((id) => !tenant.batches.has(id)).length;
      if (tenant.batches.size + fresh > this.#options.batchesPerTenant) {
        throw this.#refuse('backlog', `this tenant's reads would wait for more than ${this.#options.batchesPerTenant} batches`);
      }
      await this.#wait(tenant, found);
    } finally {
      tenant.reads--;
      if (tenant.reads === 0) this.#tenants.delete(tenantId);
    }
  }

  /** Refuses every waiting read (shutdown: before the HTTP server waits for its requests) and stops probing. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const waiter of [...this.#waiters]) this.#settle(waiter, 'shutdown');
  }

  #tenant(id: string): TenantWaits {
    let tenant = this.#tenants.get(id);
    if (!tenant) {
      const search = new CallBatcher<ProjectionScope & { kind: 'device' | 'tenant' }, string[] | 'backlog'>((scopes) => this.#search(id, scopes), {
        callsInFlight: 1,
        maxWeight: this.#options.readsPerTenant,
        weight: () => 1,
      });
      tenant = { id, reads: 0, batches: new Map(), search };
      this.#tenants.set(id, tenant);
    }
    return tenant;
  }

  /** One search for the scopes of several reads of a tenant: each gets its own batches. */
  async #search(tenantId: string, scopes: (ProjectionScope & { kind: 'device' | 'tenant' })[]): Promise<(string[] | 'backlog')[]> {
    const wholeTenant = scopes.some((scope) => scope.kind === 'tenant');
    const devices = [...new Set(scopes.flatMap((scope) => (scope.kind === 'device' ? [scope.device] : [])))];
    const staged = await selectPendingBatches(this.#db, tenantId, wholeTenant, devices, this.#options.stagedRowsPerSearch);
    return scopes.map((scope) => {
      if (staged.truncated) return 'backlog';
      return scope.kind === 'tenant' ? staged.tenant : (staged.byDevice.get(scope.device) ?? []);
    });
  }

  #wait(tenant: TenantWaits, batches: string[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        tenant,
        pending: new Set(batches),
        deadline: setTimeout(() => this.#settle(waiter, 'timeout'), this.#options.maxWaitMs),
        resolve,
        reject,
      };
      this.#waiters.add(waiter);
      for (const id of waiter.pending) tenant.batches.set(id, (tenant.batches.get(id) ?? 0) + 1);
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#probing || this.#closed || this.#waiters.size === 0) return;
    this.#timer = setTimeout(() => void this.#probe(), Math.max(this.#options.pollMs, this.#lastProbeMs));
  }

  async #probe(): Promise<void> {
    this.#timer = undefined;
    this.#probing = true;
    const started = performance.now();
    try {
      const ids = new Set<string>();
      for (const waiter of this.#waiters) for (const id of waiter.pending) ids.add(id);
      const settled = new Set(await selectSettledBatches(this.#db, [...ids]));
      for (const waiter of [...this.#waiters]) {
        for (const id of settled) this.#drop(waiter, id);
        if (waiter.pending.size === 0) this.#settle(waiter, 'applied');
      }
    } catch (error) {
      // The primary did not answer this time: the reads keep waiting, each until its own deadline.
      this.#logger.warn({ err: error }, 'could not probe which batches are projected; strong reads keep waiting');
    } finally {
      this.#lastProbeMs = performance.now() - started;
      this.#probing = false;
      this.#schedule();
    }
  }

  /** `id` no longer holds `waiter`. */
  #drop(waiter: Waiter, id: string): void {
    if (!waiter.pending.delete(id)) return;
    const others = (waiter.tenant.batches.get(id) ?? 1) - 1;
    if (others === 0) waiter.tenant.batches.delete(id);
    else waiter.tenant.batches.set(id, others);
  }

  #settle(waiter: Waiter, result: 'applied' | 'timeout' | 'shutdown'): void {
    if (!this.#waiters.delete(waiter)) return;
    clearTimeout(waiter.deadline);
    const left = waiter.pending.size;
    for (const id of [...waiter.pending]) this.#drop(waiter, id);
    if (result === 'applied') {
      this.#waits.inc({ result });
      waiter.resolve();
    } else {
      const why =
        result === 'timeout' ? `${left} batch(es) this read must reflect were not projected within STRONG_READ_WAIT_MS (${this.#options.maxWaitMs} ms)` : 'query-api is shutting down';
      waiter.reject(this.#refuse(result, why));
    }
  }

  #refuse(result: Refusal, why: string): AppError {
    this.#waits.inc({ result });
    return new AppError(503, 'projection_pending', `events acknowledged before this read are not projected yet: ${why}; retry shortly, or read with consistency=eventual`, {
      headers: { 'retry-after': RETRY_AFTER_SECONDS },
    });
  }
}
