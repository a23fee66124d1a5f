import type { Logger } from '../logging/create-logger.ts';

export interface IntervalLoopOptions {
  /** Names the loop in log lines. */
  name: string;
  intervalMs: number;
  logger: Logger;
  /** One round of work. A rejection is logged (at most one line per 10 s) and the loop goes on. */
  run: () => Promise<void>;
  onError?: (error: unknown) => void;
}

/**
 * A background task repeated every interval, as house style wants background loops: a round still
 * running when the next is due is skipped (a slow dependency does not pile up work), failures are
 * logged and counted but never end the loop, the timer never keeps the process alive, and `stop()`
 * waits for the round in flight so the caller can close its pools right after.
 */
export class IntervalLoop {
  readonly #options: IntervalLoopOptions;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #lastLogged = 0;

  constructor(options: IntervalLoopOptions) {
    this.#options = options;
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.runOnce(), this.#options.intervalMs);
    this.#timer.unref();
  }

  /** One round now (also what the timer calls); resolves when it is done, never rejects. */
  async runOnce(): Promise<void> {
    if (this.#inFlight) return this.#inFlight;
    this.#inFlight = this.#options
      .run()
      .catch((error: unknown) => {
        this.#options.onError?.(error);
        if (Date.now() - this.#lastLogged > 10_000) {
          this.#lastLogged = Date.now();
          this.#options.logger.warn({ err: error, loop: this.#options.name }, `${this.#options.name} failed; trying again next round`);
        }
      })
      .finally(() => {
        this.#inFlight = undefined;
      });
    return this.#inFlight;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#inFlight;
  }
}
