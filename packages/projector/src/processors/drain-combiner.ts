export interface DrainCombinerOptions {
  /** Drains running at once; submissions wait and combine while all of them are busy. */
  maxInFlight: number;
  /** A drain closes at this many items... */
  maxItems: number;
  /** ...or once it holds this much weight (events), whichever comes first. */
  maxWeight: number;
}

interface Pending<T, R> {
  item: T;
  weight: number;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit on the projector's side: jobs that are active at the same time are projected in one
 * transaction (one synchronous commit, one round of index and WAL work for all of them) instead of
 * one each. It adds no wait of its own: an item starts at once while fewer than `maxInFlight` drains
 * run, and items that arrive while all are busy combine into the next drain — so at low load a
 * drain is one batch and under load it holds as many as arrived during the previous one.
 *
 * When a combined drain fails, every item in it is run alone (`runAlone`), so each keeps its own
 * failure handling (deferral while PostgreSQL is away, split-on-refusal, retries): one batch's
 * refused data never fails the others it happened to be drained with.
 */
export class DrainCombiner<T, R> {
  readonly #options: DrainCombinerOptions;
  readonly #runTogether: (items: T[]) => Promise<R[]>;
  readonly #runAlone: (item: T) => Promise<R>;
  #queue: Pending<T, R>[] = [];
  #inFlight = 0;

  constructor(options: DrainCombinerOptions, runTogether: (items: T[]) => Promise<R[]>, runAlone: (item: T) => Promise<R>) {
    this.#options = options;
    this.#runTogether = runTogether;
    this.#runAlone = runAlone;
  }

  submit(item: T, weight: number): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ item, weight, resolve, reject });
      this.#startDrains();
    });
  }

  #startDrains(): void {
    while (this.#inFlight < this.#options.maxInFlight && this.#queue.length > 0) {
      const drain = this.#take();
      this.#inFlight++;
      void this.#run(drain).finally(() => {
        this.#inFlight--;
        this.#startDrains();
      });
    }
  }

  /** The next drain: at least one item, then more while within the item and weight bounds. */
  #take(): Pending<T, R>[] {
    const drain = [this.#queue.shift() as Pending<T, R>];
    let weight = drain[0]?.weight ?? 0;
    while (this.#queue.length > 0 && drain.length < this.#options.maxItems) {
      const next = this.#queue[0] as Pending<T, R>;
      if (weight + next.weight > this.#options.maxWeight) break;
      drain.push(this.#queue.shift() as Pending<T, R>);
      weight += next.weight;
    }
    return drain;
  }

  async #run(drain: Pending<T, R>[]): Promise<void> {
    if (drain.length > 1) {
      try {
        const results = await this.#runTogether(drain.map((pending) => pending.item));
        drain.forEach((pending, index) => pending.resolve(results[index] as R));
        return;
      } catch {
        // Fall through: each item alone, with its own failure handling and its own error.
      }
    }
    await Promise.all(
      drain.map(async (pending) => {
        try {
          pending.resolve(await this.#runAlone(pending.item));
        } catch (error) {
          pending.reject(error);
        }
      }),
    );
  }
}
