import { unavailable } from '@strata/core';
import { JSON_BYTES_PER_CHAR } from './held-bytes.ts';
import { TenantCounts } from './tenant-counts.ts';

/**
 * A request whose HeldBytes estimate is at least this goes through the large-body lane: 64 KiB of
 * JSON or MQTT payload, 32 KiB of (decompressed) line protocol. The bench's batches of 500 events
 * (~75 KB of JSON) are in it, and fit in it eight at a time with room to spare; a one-event request is
 * never in it.
 */
export const LARGE_REQUEST_BYTES = 64 * 1024 * JSON_BYTES_PER_CHAR;

/** Whether a request of this HeldBytes estimate takes a turn of the large-body lane. */
export function isLargeRequest(bytes: number): boolean {
  return bytes >= LARGE_REQUEST_BYTES;
}

export interface LargeBodyLaneOptions {
  /**
   * The HeldBytes estimate of the large requests processed at once in this process. A request counts
   * its estimate, or the whole capacity if it is larger (it then goes alone).
   */
  capacityBytes: number;
  /** How long a large body may wait for its turn before it is refused with 503. */
  maxWaitMs: number;
}

interface Waiter {
  tenantId: string;
  /** What it takes of the capacity. */
  weight: number;
  resolve: (release: () => void) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout;
}

/**
 * Large write requests processed a budget's worth at a time, tenants taking turns by start-time fair
 * queuing (decision 0123). Node has one event loop: every request's steps wait behind whatever
 * synchronous work is queued before them, and a ~1 MiB body is tens of milliseconds of it (validating,
 * serializing for staging and for the job, writing both). Four of them at once made a neighbour's
 * one-event requests take 0.3–0.7 s each, and 1.3 s at p50 under the bench's paced load. Through the
 * lane, at most `capacityBytes` of estimate (1 MiB of JSON by default) is being processed, whatever
 * the bodies' sizes: many bodies just under a size bound would do the same as a few large ones
 * (hostile review). A request larger than the capacity goes alone.
 *
 * acceptEvents takes the turn right after charging the request to HeldBytes, so a waiting request is
 * counted in memory, and gives it back when the request is answered: a turn covers processing and
 * storing, never a client still sending its body. A wait is bounded by `maxWaitMs`.
 */
export class LargeBodyLane {
  readonly #options: LargeBodyLaneOptions;
  /** Estimate being processed now, and the requests it belongs to. */
  #inUseBytes = 0;
  #inUse = 0;
  /** Waiting bodies per tenant, oldest first; a tenant leaves when it has none waiting. */
  readonly #waiting = new Map<string, Waiter[]>();
  #waitingCount = 0;
  /**
   * Start-time fair queuing over tenants: each tenant with a request waiting or in process has the tag
   * its next turn starts at, and #virtual is the tag of the turn given last. The next turn goes to the
   * waiting tenant with the lowest tag (the oldest waiting of equals), whose tag then moves one on. A
   * tenant with no tag (nothing waiting or in process) starts at #virtual: no credit for having been
   * idle, so a tenant sending one body at a time cannot come back first every time and take every
   * other turn (hostile review of this decision), and no debt either. A tenant leaves both maps when it
   * has nothing waiting or in process.
   */
  readonly #tags = new Map<string, number>();
  readonly #processingBy = new TenantCounts();
  #virtual = 0;

  constructor(options: LargeBodyLaneOptions) {
    if (!Number.isSafeInteger(options.capacityBytes) || options.capacityBytes < 1) {
      throw new TypeError(`LargeBodyLane: capacityBytes must be a positive integer, got ${options.capacityBytes}`);
    }
    this.#options = options;
  }

  /** Large requests being processed now (the strata_ingest_large_bodies gauge). */
  get processing(): number {
    return this.#inUse;
  }

  /** Large requests waiting for their turn now. */
  get waiting(): number {
    return this.#waitingCount;
  }

  /**
   * Resolves with the function that gives the turn back (once; later calls do nothing) when it is the
   * turn of this request of `bytes` (its HeldBytes estimate); rejects with 503 after maxWaitMs.
   */
  enter(tenantId: string, bytes: number): Promise<() => void> {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new TypeError(`LargeBodyLane: bytes must be a non-negative integer, got ${bytes}`);
    const weight = Math.min(bytes, this.#options.capacityBytes);
    if (this.#waitingCount === 0 && this.#fits(weight)) return Promise.resolve(this.#turn(tenantId, weight));
    return new Promise<() => void>((resolve, reject) => {
      const waiter: Waiter = {
        tenantId,
        weight,
        resolve,
        reject,
        timer: setTimeout(() => {
          if (this.#remove(waiter)) {
            waiter.reject(unavailable('large requests are waiting their turn (command-api processes about 1 MiB of them at a time); retry'));
            // A request that does not fit may have held back smaller ones behind it.
            this.#grantNext();
          }
        }, this.#options.maxWaitMs),
      };
      const queue = this.#waiting.get(tenantId);
      if (queue) queue.push(waiter);
      else this.#waiting.set(tenantId, [waiter]);
      if (!this.#tags.has(tenantId)) this.#tags.set(tenantId, this.#virtual);
      this.#waitingCount++;
    });
  }

  #fits(weight: number): boolean {
    return this.#inUseBytes + weight <= this.#options.capacityBytes;
  }

  /** Gives the tenant a turn now; returns the function that gives it back. */
  #turn(tenantId: string, weight: number): () => void {
    this.#inUse++;
    this.#inUseBytes += weight;
    const tag = Math.max(this.#tags.get(tenantId) ?? this.#virtual, this.#virtual);
    this.#virtual = tag;
    this.#tags.set(tenantId, tag + 1);
    this.#processingBy.add(tenantId, 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inUse--;
      this.#inUseBytes -= weight;
      this.#processingBy.add(tenantId, -1);
      this.#forgetIfIdle(tenantId);
      this.#grantNext();
    };
  }

  /**
   * Free capacity goes to the waiting tenant with the lowest tag, its oldest request first; if that
   * request does not fit yet, nothing goes before it (a large request is not starved by small ones).
   */
  #grantNext(): void {
    while (this.#waitingCount > 0) {
      let next: string | undefined;
      let lowest = Infinity;
      for (const tenantId of this.#waiting.keys()) {
        const tag = this.#tags.get(tenantId) as number;
        if (tag < lowest) [next, lowest] = [tenantId, tag];
      }
      const queue = this.#waiting.get(next as string) as Waiter[];
      if (!this.#fits((queue[0] as Waiter).weight)) return;
      const waiter = queue.shift() as Waiter;
      if (queue.length === 0) this.#waiting.delete(waiter.tenantId);
      this.#waitingCount--;
      clearTimeout(waiter.timer);
      waiter.resolve(this.#turn(waiter.tenantId, waiter.weight));
    }
  }

  /** Takes a timed-out waiter out of its queue; false if it was already given its turn. */
  #remove(waiter: Waiter): boolean {
    const queue = this.#waiting.get(waiter.tenantId);
    const at = queue?.indexOf(waiter) ?? -1;
    if (!queue || at < 0) return false;
    clearTimeout(waiter.timer);
    queue.splice(at, 1);
    this.#waitingCount--;
    if (queue.length === 0) this.#waiting.delete(waiter.tenantId);
    this.#forgetIfIdle(waiter.tenantId);
    return true;
  }

  #forgetIfIdle(tenantId: string): void {
    if (!this.#waiting.has(tenantId) && !this.#processingBy.has(tenantId)) this.#tags.delete(tenantId);
  }
}
