import { randomUUID } from 'node:crypto';
import { AppError, unavailable, UUID_PATTERN, type BatchEvent, type Clock, type Logger, type NormalizedEvent } from '@strata/core';
import type { CommandMetrics } from '../metrics.ts';
import { TenantCounts } from './tenant-counts.ts';

export interface GroupCommitOptions {
  /** A batch holds at most this many events... */
  maxBatchEvents: number;
  /** ...and at most this many bytes of requests (their HeldBytes estimate), */
  maxBatchBytes: number;
  /** and goes at the latest this long after its oldest request arrived, once a write slot is free. */
  maxWaitMs: number;
  /**
   * Batch writes (staging insert, then job add) in flight at once. While all are busy, requests wait
   * and the next batch is made from them when one is free, so a slow store makes batches larger (up to
   * the caps), not more.
   */
  writesInFlight: number;
  /**
   * Events held at once: waiting for a write and being written. A request that would pass it is
   * refused with 503 at once, so a slow PostgreSQL or Redis costs retries, not memory.
   */
  maxHeldEvents: number;
  /** What one tenant may hold of maxHeldEvents, so one tenant cannot have every neighbour refused. */
  maxHeldEventsPerTenant: number;
}

export type WriteBatch = (batchId: string, events: BatchEvent[], acceptedAt: number) => Promise<void>;

interface Pending {
  tenantId: string;
  events: NormalizedEvent[];
  bytes: number;
  /** performance.now() when it was submitted: a batch goes maxWaitMs after its oldest request. */
  arrived: number;
  resolve: (batchId: string) => void;
  reject: (error: unknown) => void;
}

/**
 * A tenant's waiting requests, oldest first. Taken from the front by an index, not Array.shift, which
 * V8 makes O(n) on long arrays: one tenant's 50,000 one-event requests took 0.8 s to batch that way
 * (hostile review of decision 0122). The taken part is dropped once it is half the array.
 */
class RequestQueue {
  #items: Pending[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(request: Pending): void {
    this.#items.push(request);
  }

  peek(): Pending {
    return this.#items[this.#head] as Pending;
  }

  shift(): Pending {
    const request = this.#items[this.#head] as Pending;
    this.#items[this.#head++] = undefined as unknown as Pending;
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return request;
  }
}

/**
 * Group commit: requests arriving within a few milliseconds share one staging write and one queue
 * job, so one-event requests cost a fraction of a round trip each. A request is never split across
 * batches, so it is acknowledged or refused as a whole.
 *
 * Tenants are served in turn (decision 0122): requests wait in one queue per tenant, and a batch is
 * made when a write slot is free by taking one request from each waiting tenant in turn, the turn
 * starting one tenant further on each batch, until the batch is full in events or bytes. So a tenant
 * sending many or large requests fills batches only with what its neighbours leave, and a neighbour's
 * small request goes in the next batch that starts, not behind the backlog of a busier tenant.
 */
export class GroupCommitter {
  readonly #write: WriteBatch;
  readonly #options: GroupCommitOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #metrics: CommandMetrics;
  /** Requests not yet in a batch, per tenant, oldest first; a tenant leaves when its queue empties. */
  readonly #waiting = new Map<string, RequestQueue>();
  /** Tenants with waiting requests, in turn order: the next batch starts with the first. */
  #tenants: string[] = [];
  #waitingEvents = 0;
  #waitingBytes = 0;
  /** The oldest waiting request has waited maxWaitMs: a batch goes as soon as a write slot is free. */
  #due = false;
  #timer: NodeJS.Timeout | undefined;
  #writing = 0;
  #held = 0;
  /** Events held per tenant, waiting or being written; a tenant leaves when it holds none. */
  readonly #heldByTenant = new TenantCounts();
  #stopped = false;
  #onIdle: (() => void)[] = [];

  constructor(write: WriteBatch, options: GroupCommitOptions, clock: Clock, logger: Logger, metrics: CommandMetrics) {
    this.#write = write;
    this.#options = options;
    this.#clock = clock;
    this.#logger = logger;
    this.#metrics = metrics;
  }

  /** Events accepted for writing and not yet answered (for the held-events gauge and tests). */
  get heldEvents(): number {
    return this.#held;
  }

  /** Events of this tenant accepted for writing and not yet answered (MQTT pauses a tenant's sockets by it). */
  heldEventsOf(tenantId: string): number {
    return this.#heldByTenant.get(tenantId);
  }

  /**
   * Resolves with the batch id once the events are durable in staging and the queue. Throws at once,
   * before anything is queued, when the tenant id is not a UUID: authentication should have made that
   * impossible, and a request that slipped past it must fail alone, never the batch it would share
   * (staging's tenant_id is a uuid column: PostgreSQL would refuse the whole shared insert, issue 9).
   * `bytes` is the request's HeldBytes estimate, which bounds the batch it joins.
   */
  submit(tenantId: string, events: NormalizedEvent[], bytes: number): Promise<string> {
    if (typeof tenantId !== 'string' || !UUID_PATTERN.test(tenantId)) {
      throw new AppError(401, 'unauthorized', 'the request has no authenticated tenant');
    }
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new TypeError(`GroupCommitter: bytes must be a non-negative integer, got ${bytes}`);
    if (this.#stopped) return Promise.reject(unavailable('shutting down'));
    // An empty committer, and a tenant holding nothing, take any request, so one larger than a bound
    // is never refused forever.
    if (this.#held > 0 && this.#held + events.length > this.#options.maxHeldEvents) {
      return Promise.reject(unavailable('too many events are waiting to be stored; retry'));
    }
    const mine = this.#heldByTenant.get(tenantId);
    if (mine > 0 && mine + events.length > this.#options.maxHeldEventsPerTenant) {
      // 503, not 429, as for bytes (decision 0120): the store is behind this tenant's volume.
      return Promise.reject(unavailable("this tenant's earlier events are still waiting to be stored; retry"));
    }
    return new Promise<string>((resolve, reject) => {
      const request: Pending = { tenantId, events, bytes, arrived: performance.now(), resolve, reject };
      const queue = this.#waiting.get(tenantId);
      if (queue) queue.push(request);
      else {
        const fresh = new RequestQueue();
        fresh.push(request);
        this.#waiting.set(tenantId, fresh);
        this.#tenants.push(tenantId);
      }
      this.#heldByTenant.add(tenantId, events.length);
      this.#held += events.length;
      this.#waitingEvents += events.length;
      this.#waitingBytes += bytes;
      if (this.#isFull()) this.#startWrites();
      else if (!this.#due && this.#timer === undefined) this.#timer = setTimeout(this.#onWaitOver, this.#options.maxWaitMs);
    });
  }

  /** Refuses new work, writes what is held and waits until every write has finished. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#tenants.length > 0) this.#onWaitOver();
    if (this.#held === 0) return;
    await new Promise<void>((resolve) => this.#onIdle.push(resolve));
  }

  readonly #onWaitOver = (): void => {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#due = true;
    this.#startWrites();
  };

  /** What waits fills a batch: no reason to wait for more. */
  #isFull(): boolean {
    return this.#waitingEvents >= this.#options.maxBatchEvents || this.#waitingBytes >= this.#options.maxBatchBytes;
  }

  #startWrites(): void {
    while (this.#writing < this.#options.writesInFlight && this.#tenants.length > 0 && (this.#due || this.#isFull())) {
      const batch = this.#takeBatch();
      this.#writing++;
      void this.#writeBatch(batch).finally(() => {
        this.#writing--;
        for (const request of batch) {
          this.#held -= request.events.length;
          this.#heldByTenant.add(request.tenantId, -request.events.length);
        }
        this.#startWrites();
        if (this.#held === 0) for (const resolve of this.#onIdle.splice(0)) resolve();
      });
    }
  }

  /**
   * Takes the next batch from the waiting requests: one request from each tenant in turn, while it
   * fits, until no tenant's next request fits (a tenant's requests keep their order, so a tenant
   * whose next request does not fit adds nothing more). The first request always fits, however
   * large. The turn then moves one tenant on, and what is left is given its time to go.
   */
  #takeBatch(): Pending[] {
    const { maxBatchEvents, maxBatchBytes, maxWaitMs } = this.#options;
    const batch: Pending[] = [];
    let events = 0;
    let bytes = 0;
    let open = this.#tenants;
    while (open.length > 0) {
      const next: string[] = [];
      // The last tenant with room takes all that fits at once: the common case of one busy tenant.
      const turn = open.length === 1 ? Infinity : 1;
      for (const tenantId of open) {
        const queue = this.#waiting.get(tenantId)!;
        let taken = 0;
        while (taken < turn && queue.length > 0) {
          const head = queue.peek();
          if (batch.length > 0 && (events + head.events.length > maxBatchEvents || bytes + head.bytes > maxBatchBytes)) break;
          queue.shift();
          batch.push(head);
          events += head.events.length;
          bytes += head.bytes;
          taken++;
        }
        if (queue.length === 0) this.#waiting.delete(tenantId);
        else if (taken === turn) next.push(tenantId);
      }
      open = next;
    }
    this.#waitingEvents -= events;
    this.#waitingBytes -= bytes;
    // The tenant that went first goes last next time.
    this.#tenants = [...this.#tenants.slice(1), this.#tenants[0]!].filter((tenantId) => this.#waiting.has(tenantId));
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#due = false;
    if (this.#tenants.length > 0) {
      // What is left may go once its oldest request has waited maxWaitMs (at once if it has already).
      let oldest = Infinity;
      for (const queue of this.#waiting.values()) oldest = Math.min(oldest, queue.peek().arrived);
      const left = oldest + maxWaitMs - performance.now();
      if (this.#stopped || left <= 0) this.#due = true;
      else this.#timer = setTimeout(this.#onWaitOver, left);
    }
    return batch;
  }

  async #writeBatch(batch: Pending[]): Promise<void> {
    const batchId = randomUUID();
    const events: BatchEvent[] = [];
    for (const request of batch) {
      for (const event of request.events) events.push({ ...event, tenantId: request.tenantId });
    }
    const started = performance.now();
    try {
      await this.#write(batchId, events, this.#clock.now());
      this.#metrics.batchWriteDuration.observe({ outcome: 'ok' }, (performance.now() - started) / 1000);
      this.#metrics.batchEvents.observe(events.length);
      this.#metrics.batchRequests.observe(batch.length);
      for (const request of batch) request.resolve(batchId);
    } catch (error) {
      this.#metrics.batchWriteDuration.observe({ outcome: 'error' }, (performance.now() - started) / 1000);
      this.#logger.warn({ err: error, batchId, events: events.length }, 'batch write failed; requests refused with 503');
      const refusal = unavailable('events could not be stored right now; retry', error);
      for (const request of batch) request.reject(refusal);
    }
  }
}
