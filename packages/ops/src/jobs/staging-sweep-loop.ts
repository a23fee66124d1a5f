import type { Logger } from '@strata/core';
import type { SweepOutcome } from './sweep-staging.ts';

export interface StagingSweepLoopOptions {
  sweep: () => Promise<SweepOutcome>;
  intervalMs: number;
  logger: Logger;
  onOutcome: (outcome: SweepOutcome | { result: 'failed' }) => void;
}

/**
 * Runs the staging sweeper every few seconds. Not a pg-boss schedule: cron ticks are a minute
 * apart, and a batch whose job was lost should be back in the queue within seconds (decision 0021).
 * The sweep itself takes an advisory lock, so any number of ops instances can run this loop.
 * Failures (PostgreSQL or Redis away) are logged, counted, and retried on the next tick.
 */
export class StagingSweepLoop {
  readonly #options: StagingSweepLoopOptions;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #lastLogged = 0;

  constructor(options: StagingSweepLoopOptions) {
    this.#options = options;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.runOnce(), this.#options.intervalMs);
    this.#timer.unref();
  }

  /** One sweep; skipped while the previous one is still running. */
  async runOnce(): Promise<void> {
    if (this.#inFlight) return;
    this.#inFlight = this.#options
      .sweep()
      .then((outcome) => {
        this.#options.onOutcome(outcome);
        if (outcome.result === 'completed' && (outcome.requeued.length > 0 || outcome.leftoverRows > 0)) {
          this.#options.logger.warn({ requeued: outcome.requeued, leftoverRows: outcome.leftoverRows }, 'staging sweeper repaired batches');
        }
      })
      .catch((error: unknown) => {
        this.#options.onOutcome({ result: 'failed' });
        if (Date.now() - this.#lastLogged > 10_000) {
          this.#lastLogged = Date.now();
          this.#options.logger.warn({ err: error }, 'staging sweep failed; retrying on the next tick');
        }
      })
      .finally(() => {
        this.#inFlight = undefined;
      });
    await this.#inFlight;
  }

  /** Stops the loop and waits for a sweep in flight, so the pool and queue can be closed after. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#inFlight;
  }
}
