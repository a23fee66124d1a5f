import { circuitBreaker, CircuitState, ConsecutiveBreaker, handleWhen, TaskCancelledError, timeout, TimeoutStrategy, wrap, type IPolicy } from 'cockatiel';
import { TimeoutError, type BreakerState, type Clock, type Logger } from '@strata/core';
import { isClientError, isStatementTimeout } from './data-exception.ts';

export interface BreakerOptions {
  /** Consecutive failures (errors or timeouts) that open the breaker. */
  failures: number;
  /** How long it stays open before one trial call may pass. */
  halfOpenAfterMs: number;
  /**
   * A call slower than this fails (and counts as a failure): a slow source is as bad as a dead one.
   * It is the call's only deadline on the client side; a call may ask for its own (execute).
   */
  timeoutMs: number;
}

/**
 * A circuit breaker around one optional read source (a replica, the cache Redis), built on cockatiel.
 * A call times out aggressively (the caller moves on at once; the driver's own timeout ends the
 * abandoned request), and the timeout counts towards opening the breaker; client errors never do.
 */
export class Breaker {
  readonly target: string;
  readonly #options: BreakerOptions;
  readonly #clock: Clock;
  readonly #breaker;
  /** The breaker wrapped in a timeout, per timeout a call asked for (a read's, a probe's). */
  readonly #policies = new Map<number, IPolicy>();
  #openedAt = 0;

  constructor(target: string, options: BreakerOptions, clock: Clock, logger: Logger) {
    this.target = target;
    this.#options = options;
    this.#clock = clock;
    // A client's mistake (a cast the source refused, a 4xx) passes through uncounted: otherwise anyone
    // could open every replica's breaker with a few malformed reads and move all reads to the primary.
    // A statement timeout (57014) is not counted either: the statement_timeout it hit is a bound on
    // the read, and a read big enough to reach it would reach it on any source, the primary included,
    // so a tenant could otherwise open breakers on purpose with a few huge reads. A source that is
    // merely slow still trips the breaker through this policy's own (shorter) timeout.
    this.#breaker = circuitBreaker(handleWhen((error) => !isClientError(error) && !isStatementTimeout(error)), {
      halfOpenAfter: options.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(options.failures),
    });
    this.#breaker.onBreak(() => {
      this.#openedAt = clock.now();
      logger.warn({ target }, 'circuit breaker opened: reads skip this source');
    });
    this.#breaker.onHalfOpen(() => logger.info({ target }, 'circuit breaker half-open: trying one call'));
    this.#breaker.onReset(() => logger.info({ target }, 'circuit breaker closed: source back in use'));
  }

  /**
   * Runs `fn` through the breaker under one deadline, `timeoutMs` (default: the breaker's own);
   * rejects at once (BrokenCircuitError) while it is open, and with "no answer within N ms" when the
   * deadline passes, which counts as a failure.
   */
  async execute<T>(fn: () => Promise<T>, timeoutMs = this.#options.timeoutMs): Promise<T> {
    let policy = this.#policies.get(timeoutMs);
    if (!policy) {
      policy = wrap(this.#breaker, timeout(timeoutMs, TimeoutStrategy.Aggressive));
      this.#policies.set(timeoutMs, policy);
    }
    try {
      return await policy.execute(fn);
    } catch (error) {
      // (cockatiel 3.2's isTaskCancelledError tests for the bulkhead's marker, so never matches.)
      if (error instanceof TaskCancelledError) throw new TimeoutError(timeoutMs, { cause: error });
      throw error;
    }
  }

  state(): BreakerState {
    const state = this.#breaker.state;
    return state === CircuitState.Closed ? 'closed' : state === CircuitState.HalfOpen ? 'half-open' : 'open';
  }

  /** When it last opened (the clock's milliseconds), 0 if it never has. */
  openedAt(): number {
    return this.#openedAt;
  }

  /**
   * Whether a read should try this source now: closed, or open long enough that the next call is
   * the half-open trial. (cockatiel reports Open until that call is made.)
   */
  admits(): boolean {
    const state = this.state();
    if (state === 'closed') return true;
    return state === 'open' && this.#clock.now() - this.#openedAt >= this.#options.halfOpenAfterMs;
  }
}
