import { AppError, CallBatcher, ThrottledLogger, type Logger, type Queryable } from '@strata/core';
import type { Counter } from 'prom-client';
import { selectPendingBatches, selectPendingTokenBatch } from '../queries/select-pending-batches.ts';
import { selectSettledBatches } from '../queries/select-settled-batches.ts';

export interface ProjectionWaiterOptions {
  /** STRONG_READ_WAIT_MS: how long a read may take to find and wait for its batches; 0 refuses one that would wait. */
  maxWaitMs: number;
  /** The shortest pause between two probes while reads wait. */
  pollMs: number;
  /** Reads of one tenant finding or waiting at once; more are refused at once. */
  readsPerTenant: number;
  /** Distinct batches one tenant's reads wait for at once; a read that would pass it is refused. */
  batchesPerTenant: number;
  /** Staged rows one search reads at most; past it the scope is too far behind to wait for. */
  stagedRowsPerSearch: number;
}

/** What one read must see projected: its device's batches, its tenant's, or its token's. */
export type ProjectionScope = { kind: 'device'; device: string } | { kind: 'tenant' } | { kind: 'token'; batchId: string };
type SearchScope = ProjectionScope & { kind: 'device' | 'tenant' };

/**
 * `result`: applied (waited, then read), timeout (STRONG_READ_WAIT_MS passed), busy (the tenant's
 * reads at their bound), backlog (the scope's batches or staged rows past theirs), off
 * (STRONG_READ_WAIT_MS is 0), shutdown. All but applied are 503s.
 */
export type ProjectionWaitCounter = Counter<'result'>;

type Refusal = 'timeout' | 'busy' | 'backlog' | 'off' | 'shutdown';

/** One read from the moment it asks until it may read: searching for its batches, then waiting for them. */
interface Read {
  tenant: TenantReads;
  /** Undefined while its batches are being found. */
  pending: Set<string> | undefined;
  deadline: NodeJS.Timeout | undefined;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** One tenant's reads in progress, the batches they wait for (with how many wait for each), its search. */
interface TenantReads {
  id: string;
  reads: number;
  batches: Map<string, number>;
  search: CallBatcher<SearchScope, string[] | 'backlog'>;
}

/** A search of several scopes that read too many rows: each scope is searched again alone (CallBatcher's isolate). */
class SharedSearchTruncated extends Error {}

const RETRY_AFTER_SECONDS = '1';
/** A probe that took long (a pool wait, a lock) spaces the next one by at most this. */
const MAX_PROBE_SPACING_MS = 100;
/** After a failed probe the pause doubles, up to this, until one succeeds. */
const MAX_FAILED_PROBE_SPACING_MS = 500;
/** A tenant-wide search that found too many staged rows is not run again for this long. */
const BACKLOG_MEMORY_MS = 1000;

/**
 * Holds strong reads (and token reads on the primary) until the batches they must reflect are
 * applied (decision 0104). Every bound is per tenant, so one tenant far behind, stuck or hostile
 * refuses its own reads and nobody else's:
 *  - finding what to wait for is one statement per tenant at a time (`selectPendingBatches`): reads of
 *    a tenant that arrive while its search runs share the next one, which starts after they arrived
 *    (so it sees everything acknowledged before them); a tenant's reads past `readsPerTenant` are
 *    refused before any statement runs; a scope with more staged rows than a search reads is refused;
 *  - waiting is one statement for every waiting read of every tenant (`selectSettledBatches`), run
 *    only while some read waits, every `pollMs` (more slowly while the probe is slow or failing);
 *  - each read has its own deadline from the moment it asks, search included: no statement, slow or
 *    failing, holds it past STRONG_READ_WAIT_MS.
 */
export class ProjectionWaiter {
  readonly #db: Queryable;
  readonly #options: ProjectionWaiterOptions;
  readonly #waits: ProjectionWaitCounter;
  readonly #probeFailures: ThrottledLogger;
  readonly #tenants = new Map<string, TenantReads>();
  readonly #reads = new Set<Read>();
  /** Tenants whose last tenant-wide search read too many rows, until when (performance.now()). */
  readonly #backlogged = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #probing = false;
  #nextSpacingMs = 0;
  #closed = false;

  constructor(db: Queryable, options: ProjectionWaiterOptions, waits: ProjectionWaitCounter, logger: Logger) {
    this.#db = db;
    this.#options = options;
    this.#waits = waits;
    this.#probeFailures = new ThrottledLogger(logger, 5000);
    this.#nextSpacingMs = options.pollMs;
  }

  /** Reads waiting for batches now (found, not yet settled). */
  get waiting(): number {
    let n = 0;
    for (const read of this.#reads) if (read.pending !== undefined) n++;
    return n;
  }

  /**
   * Resolves once nothing of `scope` acknowledged before this call is left unprojected on the
   * primary; rejects with a 503 `projection_pending` saying why when it will not wait (a bound, the
   * setting, shutdown) or STRONG_READ_WAIT_MS passed first; a search that fails rejects with its error.
   */
  async settle(tenantId: string, scope: ProjectionScope): Promise<void> {
    if (this.#closed) throw this.#refuse('shutdown', 'query-api is shutting down');
    if (scope.kind === 'tenant' && (this.#backlogged.get(tenantId) ?? 0) > performance.now()) throw this.#backlog();
    const tenant = this.#tenant(tenantId);
    if (tenant.reads >= this.#options.readsPerTenant) {
      throw this.#refuse('busy', `${this.#options.readsPerTenant} strong reads of this tenant are already waiting`);
    }
    tenant.reads++;
    try {
      await new Promise<void>((resolve, reject) => {
        const read: Read = { tenant, pending: undefined, deadline: undefined, resolve, reject };
        // With 0 a read never waits: its search alone decides (bounded by the statement timeout).
        if (this.#options.maxWaitMs > 0) read.deadline = setTimeout(() => this.#timeout(read), this.#options.maxWaitMs);
        this.#reads.add(read);
        this.#find(read, scope).then(
          (found) => this.#found(read, found),
          (error: unknown) => this.#end(read, error),
        );
      });
    } finally {
      tenant.reads--;
      if (tenant.reads === 0) this.#tenants.delete(tenantId);
    }
  }

  /** Refuses every read in progress (shutdown: before the HTTP server waits for its requests) and stops probing. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const read of [...this.#reads]) this.#end(read, this.#refuse('shutdown', 'query-api is shutting down'));
  }

  #tenant(id: string): TenantReads {
    let tenant = this.#tenants.get(id);
    if (!tenant) {
      const search = new CallBatcher<SearchScope, string[] | 'backlog'>((scopes) => this.#search(id, scopes), {
        callsInFlight: 1,
        maxWeight: this.#options.readsPerTenant,
        weight: () => 1,
        isolate: (error) => error instanceof SharedSearchTruncated,
      });
      tenant = { id, reads: 0, batches: new Map(), search };
      this.#tenants.set(id, tenant);
    }
    return tenant;
  }

  #find(read: Read, scope: ProjectionScope): Promise<string[] | 'backlog'> {
    return scope.kind === 'token' ? selectPendingTokenBatch(this.#db, read.tenant.id, scope.batchId) : read.tenant.search.submit(scope);
  }

  /**
   * One search for the scopes of several reads of a tenant: each gets its own batches. A shared search
   * that read too many rows says nothing about each scope: they are searched again one by one, so a
   * quiet device is never refused for its neighbour's backlog or a tenant-wide read's.
   */
  async #search(tenantId: string, scopes: SearchScope[]): Promise<(string[] | 'backlog')[]> {
    const wholeTenant = scopes.some((scope) => scope.kind === 'tenant');
    const devices = [...new Set(scopes.flatMap((scope) => (scope.kind === 'device' ? [scope.device] : [])))];
    const staged = await selectPendingBatches(this.#db, tenantId, wholeTenant, devices, this.#options.stagedRowsPerSearch);
    if (staged.truncated && scopes.length > 1) throw new SharedSearchTruncated();
    if (staged.truncated && wholeTenant) this.#rememberBacklog(tenantId);
    return scopes.map((scope) => {
      if (staged.truncated) return 'backlog';
      return scope.kind === 'tenant' ? staged.tenant : (staged.byDevice.get(scope.device) ?? []);
    });
  }

  #rememberBacklog(tenantId: string): void {
    const now = performance.now();
    for (const [id, until] of this.#backlogged) if (until <= now) this.#backlogged.delete(id);
    this.#backlogged.set(tenantId, now + BACKLOG_MEMORY_MS);
  }

  #found(read: Read, found: string[] | 'backlog'): void {
    if (!this.#reads.has(read)) return; // timed out or refused at shutdown while searching
    if (found === 'backlog') return this.#end(read, this.#backlog());
    if (found.length === 0) return this.#end(read);
    if (this.#options.maxWaitMs === 0) {
      return this.#end(read, this.#refuse('off', `${found.length} batch(es) this read must reflect are staged and STRONG_READ_WAIT_MS is 0`));
    }
    const tenant = read.tenant;
    const fresh = found.filter((id) => !tenant.batches.has(id)).length;
    if (tenant.batches.size + fresh > this.#options.batchesPerTenant) {
      return this.#end(read, this.#refuse('backlog', `this tenant's reads would wait for more than ${this.#options.batchesPerTenant} batches`));
    }
    read.pending = new Set(found);
    for (const id of found) tenant.batches.set(id, (tenant.batches.get(id) ?? 0) + 1);
    this.#schedule(this.#options.pollMs);
  }

  #schedule(delayMs: number): void {
    if (this.#timer !== undefined || this.#probing || this.#closed || this.waiting === 0) return;
    this.#timer = setTimeout(() => void this.#probe(), delayMs);
  }

  async #probe(): Promise<void> {
    this.#timer = undefined;
    this.#probing = true;
    const started = performance.now();
    try {
      const ids = new Set<string>();
      for (const read of this.#reads) for (const id of read.pending ?? []) ids.add(id);
      const settled = await selectSettledBatches(this.#db, [...ids]);
      for (const read of [...this.#reads]) {
        if (read.pending === undefined) continue;
        for (const id of settled) this.#drop(read, id);
        if (read.pending.size === 0) this.#end(read);
      }
      // Never more often than a probe takes (at most half the time of one backend), but a slow one
      // (a pool wait, a lock) does not space the next by more than MAX_PROBE_SPACING_MS.
      this.#nextSpacingMs = Math.max(this.#options.pollMs, Math.min(performance.now() - started, MAX_PROBE_SPACING_MS));
    } catch (error) {
      // The primary did not answer: reads keep waiting, each until its own deadline; the next
      // probes come more slowly, and the log says so once every few seconds, not once a probe.
      this.#nextSpacingMs = Math.min(Math.max(this.#nextSpacingMs * 2, this.#options.pollMs), MAX_FAILED_PROBE_SPACING_MS);
      this.#probeFailures.warn('probe', { err: error }, 'could not probe which batches are projected; strong reads keep waiting');
    } finally {
      this.#probing = false;
      this.#schedule(this.#nextSpacingMs);
    }
  }

  /** `id` no longer holds `read`. */
  #drop(read: Read, id: string): void {
    if (!read.pending?.delete(id)) return;
    const others = (read.tenant.batches.get(id) ?? 1) - 1;
    if (others === 0) read.tenant.batches.delete(id);
    else read.tenant.batches.set(id, others);
  }

  #timeout(read: Read): void {
    const why =
      read.pending === undefined
        ? `finding what to wait for took longer than STRONG_READ_WAIT_MS (${this.#options.maxWaitMs} ms)`
        : `${read.pending.size} batch(es) this read must reflect were not projected within STRONG_READ_WAIT_MS (${this.#options.maxWaitMs} ms)`;
    this.#end(read, this.#refuse('timeout', why));
  }

  /** Ends a read: resolved when `error` is undefined (counted as applied if it waited), else rejected. */
  #end(read: Read, error?: unknown): void {
    if (!this.#reads.delete(read)) return;
    clearTimeout(read.deadline);
    const waited = read.pending !== undefined;
    for (const id of [...(read.pending ?? [])]) this.#drop(read, id);
    if (error !== undefined) return read.reject(error);
    if (waited) this.#waits.inc({ result: 'applied' });
    read.resolve();
  }

  #backlog(): AppError {
    return this.#refuse('backlog', `more than ${this.#options.stagedRowsPerSearch} events of this read's scope are staged, waiting to be projected`);
  }

  #refuse(result: Refusal, why: string): AppError {
    this.#waits.inc({ result });
    return new AppError(503, 'projection_pending', `events acknowledged before this read are not projected yet: ${why}; retry shortly, or read with consistency=eventual`, {
      headers: { 'retry-after': RETRY_AFTER_SECONDS },
    });
  }
}
