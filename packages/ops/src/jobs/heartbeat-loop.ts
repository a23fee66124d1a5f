import type { Logger, Queryable } from '@strata/core';
import { touchHeartbeat } from '../queries/touch-heartbeat.ts';

export interface HeartbeatLoopOptions {
  db: Queryable;
  logger: Logger;
  intervalMs: number;
  onError: (error: unknown) => void;
}

/**
 * Writes the replication heartbeat every interval on the primary. Replicas measure their lag by
 * the age of their copy of the row, so a missed beat shows as lag, never as a crash: errors are
 * logged (at most one line per 10 s) and counted, and the loop goes on.
 */
export class HeartbeatLoop {
  readonly #options: HeartbeatLoopOptions;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #lastLogged = 0;

  constructor(options: HeartbeatLoopOptions) {
    this.#options = options;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.beat(), this.#options.intervalMs);
    // The loop alone must not keep the process alive once everything else has stopped.
    this.#timer.unref();
  }

  /** One beat; overlapping beats are skipped so a slow primary does not pile up queries. */
  async beat(): Promise<void> {
    if (this.#inFlight) return;
    this.#inFlight = touchHeartbeat(this.#options.db)
      .catch((error: unknown) => {
        this.#options.onError(error);
        if (Date.now() - this.#lastLogged > 10_000) {
          this.#lastLogged = Date.now();
          this.#options.logger.warn({ err: error }, 'heartbeat write failed');
        }
      })
      .finally(() => {
        this.#inFlight = undefined;
      });
    await this.#inFlight;
  }

  /** Stops the loop and waits for a beat in flight, so the pool can be closed right after. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#inFlight;
  }
}
