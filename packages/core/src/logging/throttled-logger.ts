import type { Logger } from './create-logger.ts';

/**
 * Warnings of something that repeats (a reconnect loop, a failing background round, a dead read
 * source under load) at most once per key every `intervalMs`: one line every few seconds shows the
 * problem, one per occurrence buries every other line. Keys are few (a connection, a loop, a source).
 */
export class ThrottledLogger {
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #lastLogged = new Map<string, number>();

  constructor(logger: Logger, intervalMs: number, now: () => number = Date.now) {
    this.#logger = logger;
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /** Logs the warning unless one for `key` was logged less than the interval ago; says whether it did. */
  warn(key: string, fields: Record<string, unknown>, message: string): boolean {
    const now = this.#now();
    const last = this.#lastLogged.get(key);
    if (last !== undefined && now - last < this.#intervalMs) return false;
    this.#lastLogged.set(key, now);
    this.#logger.warn(fields, message);
    return true;
  }
}
