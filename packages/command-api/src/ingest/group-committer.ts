import { randomUUID } from 'node:crypto';
import { AppError, unavailable, UUID_PATTERN, type BatchEvent, type Clock, type Logger, type NormalizedEvent } from '@strata/core';
import type { CommandMetrics } from '../metrics.ts';

export interface GroupCommitOptions {
  /** Close a batch once it holds this many events... */
  maxBatchEvents: number;
  /** ...or this long after its first request arrived, whichever comes first. */
  maxWaitMs: number;
  /**
   * Batch writes (staging insert, then job add) in flight at once. A batch that is due while all are
   * busy keeps taking requests until one is free, so a slow store makes batches larger, not more.
   */
  writesInFlight: number;
  /**
   * Events held at once: gathering, waiting for a write and being written. A request that would pass
   * it is refused with 503 at once, so a slow PostgreSQL or Redis costs retries, not memory.
   */
  maxHeldEvents: number;
}

export type WriteBatch = (batchId: string, events: BatchEvent[], acceptedAt: number) => Promise<void>;

interface Pending {
  tenantId: string;
  events: NormalizedEvent[];
  resolve: (batchId: string) => void;
  reject: (error: unknown) => void;
}

interface Group {
  requests: Pending[];
  events: number;
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
  /** The batch taking requests. */
  #open: Group = { requests: [], events: 0 };
  /** Its wait is over: it goes as soon as a write slot is free. */
  #due = false;
  #timer: NodeJS.Timeout | undefined;
  /** Full batches waiting for a write slot, oldest first. */
  readonly #full: Group[] = [];
  #writing = 0;
  #held = 0;
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

  /**
   * Resolves with the batch id once the events are durable in staging and the queue. Throws at once,
   * before anything is queued, when the tenant id is not a UUID: authentication should have made that
   * impossible, and a request that slipped past it must fail alone, never the batch it would share
   * (staging's tenant_id is a uuid column: PostgreSQL would refuse the whole shared insert, issue 9).
   */
  submit(tenantId: string, events: NormalizedEvent[]): Promise<string> {
    if (typeof tenantId !== 'string' || !UUID_PATTERN.test(tenantId)) {
      throw new AppError(401, 'unauthorized', 'the request has no authenticated tenant');
    }
    if (this.#stopped) return Promise.reject(unavailable('shutting down'));
    // An empty committer takes any request, so one larger than the bound is never refused forever.
    if (this.#held > 0 && this.#held + events.length > this.#options.maxHeldEvents) {
      return Promise.reject(unavailable('too many events are waiting to be stored; retry'));
    }
    return new Promise<string>((resolve, reject) => {
      if (this.#open.events > 0 && this.#open.events + events.length > this.#options.maxBatchEvents) this.#closeOpen();
      this.#open.requests.push({ tenantId, events, resolve, reject });
      this.#open.events += events.length;
      this.#held += events.length;
      if (this.#open.events >= this.#options.maxBatchEvents) this.#closeOpen();
      else if (this.#open.requests.length === 1) this.#timer = setTimeout(this.#onWaitOver, this.#options.maxWaitMs);
    });
  }

  /** Refuses new work, writes what is held and waits until every write has finished. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#open.requests.length > 0) this.#onWaitOver();
    if (this.#held === 0) return;
    await new Promise<void>((resolve) => this.#onIdle.push(resolve));
  }

  readonly #onWaitOver = (): void => {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#due = true;
    this.#startWrites();
  };

  /** The open batch is full: it waits for a slot as it is, and a new one opens. */
  #closeOpen(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#due = false;
    this.#full.push(this.#open);
    this.#open = { requests: [], events: 0 };
    this.#startWrites();
  }

  #startWrites(): void {
    while (this.#writing < this.#options.writesInFlight) {
      let group = this.#full.shift();
      if (!group && this.#due && this.#open.requests.length > 0) {
        group = this.#open;
        this.#open = { requests: [], events: 0 };
        this.#due = false;
      }
      if (!group) return;
      this.#writing++;
      void this.#writeGroup(group).finally(() => {
        this.#writing--;
        this.#held -= group.events;
        this.#startWrites();
        if (this.#held === 0) for (const resolve of this.#onIdle.splice(0)) resolve();
      });
    }
  }

  async #writeGroup(group: Group): Promise<void> {
    const batchId = randomUUID();
    const events: BatchEvent[] = [];
    for (const request of group.requests) {
      for (const event of request.events) events.push({ ...event, tenantId: request.tenantId });
    }
    const started = performance.now();
    try {
      await this.#write(batchId, events, this.#clock.now());
      this.#metrics.batchWriteDuration.observe({ outcome: 'ok' }, (performance.now() - started) / 1000);
      this.#metrics.batchEvents.observe(events.length);
      this.#metrics.batchRequests.observe(group.requests.length);
      for (const request of group.requests) request.resolve(batchId);
    } catch (error) {
      this.#metrics.batchWriteDuration.observe({ outcome: 'error' }, (performance.now() - started) / 1000);
      this.#logger.warn({ err: error, batchId, events: events.length }, 'batch write failed; requests refused with 503');
      const refusal = unavailable('events could not be stored right now; retry', error);
      for (const request of group.requests) request.reject(refusal);
    }
  }
}
