import { randomUUID } from 'node:crypto';
import { AppError, unavailable, type BatchEvent, type Clock, type Logger, type NormalizedEvent } from '@strata/core';
import type { CommandMetrics } from '../metrics.ts';

export interface GroupCommitOptions {
  /** Close a batch once it holds this many events... */
  maxBatchEvents: number;
  /** ...or this long after its first request arrived, whichever comes first. */
  maxWaitMs: number;
}

// Staging's tenant_id is a uuid column: one request with anything else would make PostgreSQL refuse
// the whole shared insert, failing every other tenant's request in the same batch (issue 9).
const TENANT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type WriteBatch = (batchId: string, events: BatchEvent[], acceptedAt: number) => Promise<void>;

interface Pending {
  tenantId: string;
  events: NormalizedEvent[];
  resolve: (batchId: string) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: requests arriving within a few milliseconds share one staging write and one queue
 * job, so one-event requests cost a fraction of a round trip each. A request is never split across
 * batches, so it is acknowledged or refused as a whole.
 */
export class GroupCommitter {
  readonly #write: WriteBatch;
  readonly #options: GroupCommitOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #metrics: CommandMetrics;
  #pending: Pending[] = [];
  #pendingEvents = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #inFlight = new Set<Promise<void>>();
  #stopped = false;

  constructor(write: WriteBatch, options: GroupCommitOptions, clock: Clock, logger: Logger, metrics: CommandMetrics) {
    this.#write = write;
    this.#options = options;
    this.#clock = clock;
    this.#logger = logger;
    this.#metrics = metrics;
  }

  /**
   * Resolves with the batch id once the events are durable in staging and the queue. Throws at once,
   * before anything is queued, when the tenant id is not a UUID: authentication should have made that
   * impossible, and a request that slipped past it must fail alone, never the batch it would share.
   */
  submit(tenantId: string, events: NormalizedEvent[]): Promise<string> {
    if (typeof tenantId !== 'string' || !TENANT_ID.test(tenantId)) {
      throw new AppError(401, 'unauthorized', 'the request has no authenticated tenant');
    }
    if (this.#stopped) return Promise.reject(unavailable('shutting down'));
    return new Promise<string>((resolve, reject) => {
      if (this.#pendingEvents > 0 && this.#pendingEvents + events.length > this.#options.maxBatchEvents) this.#flush();
      this.#pending.push({ tenantId, events, resolve, reject });
      this.#pendingEvents += events.length;
      if (this.#pendingEvents >= this.#options.maxBatchEvents) this.#flush();
      else this.#timer ??= setTimeout(() => this.#flush(), this.#options.maxWaitMs);
    });
  }

  /** Refuses new work, writes what is pending and waits for every write in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#flush();
    await Promise.allSettled([...this.#inFlight]);
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return;
    const group = this.#pending;
    this.#pending = [];
    this.#pendingEvents = 0;
    const write = this.#writeGroup(group);
    this.#inFlight.add(write);
    void write.finally(() => this.#inFlight.delete(write));
  }

  async #writeGroup(group: Pending[]): Promise<void> {
    const batchId = randomUUID();
    const events: BatchEvent[] = [];
    for (const request of group) {
      for (const event of request.events) events.push({ ...event, tenantId: request.tenantId });
    }
    const started = performance.now();
    try {
      await this.#write(batchId, events, this.#clock.now());
      this.#metrics.batchWriteDuration.observe({ outcome: 'ok' }, (performance.now() - started) / 1000);
      this.#metrics.batchEvents.observe(events.length);
      this.#metrics.batchRequests.observe(group.length);
      for (const request of group) request.resolve(batchId);
    } catch (error) {
      this.#metrics.batchWriteDuration.observe({ outcome: 'error' }, (performance.now() - started) / 1000);
      this.#logger.warn({ err: error, batchId, events: events.length }, 'batch write failed; requests refused with 503');
      const refusal = unavailable('events could not be stored right now; retry', error);
      for (const request of group) request.reject(refusal);
    }
  }
}
