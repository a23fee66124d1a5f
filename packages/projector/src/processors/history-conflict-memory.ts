/**
 * Whether the next drain may insert history without ON CONFLICT (decision 0127). Almost every drain
 * holds only events history has never seen, and inserting them plainly saves the speculative
 * insertion's extra index descent per row. A drain that meets a stored event (a client re-sending,
 * the same event in two batches of the drain) fails with a unique violation and is run again with
 * ON CONFLICT DO NOTHING; from then on drains skip duplicates for `memoryMs`, renewed by every drain
 * that skips one. So a tenant that keeps re-sending, on purpose or not, costs its neighbours one
 * wasted drain per drain slot each time it starts again after a pause of `memoryMs`, and the
 * projector meanwhile runs as it did before.
 */
export class HistoryConflictMemory {
  readonly #memoryMs: number;
  readonly #now: () => number;
  #skipUntil = Number.NEGATIVE_INFINITY;

  constructor(memoryMs: number, now: () => number = () => performance.now()) {
    if (!(memoryMs >= 0)) throw new RangeError(`HistoryConflictMemory: memoryMs must be >= 0, got ${memoryMs}`);
    this.#memoryMs = memoryMs;
    this.#now = now;
  }

  /** No drain met a stored event within the last `memoryMs`: try the plain insert. */
  get expectsNone(): boolean {
    return this.#now() >= this.#skipUntil;
  }

  /** A drain met one: skip duplicates for a while. */
  met(): void {
    this.#skipUntil = this.#now() + this.#memoryMs;
  }
}

/** How long drains skip duplicates after one met a stored event. */
export const HISTORY_CONFLICT_MEMORY_MS = 10_000;
