import type { Logger } from '../logging/create-logger.ts';
import { ThrottledLogger } from '../logging/throttled-logger.ts';

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
  readonly #failures: ThrottledLogger;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;

  constructor(options: IntervalLoopOptions) {
    this.#options = options;
    this.#failures = new ThrottledLogger(options.logger, 10_000);
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
        const { name } = this.#options;
        this.#failures.warn(name, { err: error, loop: name }, `${name} failed; trying again next round`);
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
