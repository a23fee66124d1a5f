export interface CallBatcherOptions<Item, Result> {
  /** Calls in flight at once; items submitted meanwhile wait and share the next call. */
  callsInFlight: number;
  /** Weight one call carries at most (an item heavier than that goes alone; items are never split). */
  maxWeight: number;
  /** Items one call carries at most (default: no bound but the weight). */
  maxItems?: number;
  weight: (item: Item) => number;
  /**
   * A failed call of several items whose error this accepts is retried item by item, each in a call
   * of its own, so that what one item carries cannot fail the others. Other errors (the server away
   * or slow) fail every item of the call at once, as they would have alone.
   */
  isolate?: (error: unknown) => boolean;
  /**
   * How a call that holds one item runs, when that differs from `run([item])`: the projector's lone
   * batch goes through its split-on-refusal path, which a combined drain cannot take.
   */
  runOne?: (item: Item) => Promise<Result>;
  /**
   * Spaces calls under load: a call that would carry less than `minWeight` (at most `maxWeight`)
   * starts no sooner than `ms` after the previous call started, unless `maxItems` are waiting or in
   * running calls (no more could arrive), so what arrives meanwhile shares it. Nothing waits when
   * calls are further apart than that (an idle batcher sends at once). For calls whose fixed cost
   * dwarfs an item's (the projector's drains, decision 0096).
   */
  linger?: { ms: number; minWeight: number };
}

interface Waiting<Item, Result> {
  item: Item;
  alone: boolean;
  resolve: (result: Result) => void;
  reject: (error: unknown) => void;
}

/**
 * Turns one round trip per request into one per group of concurrent requests, without a timer: an
 * item submitted while a call slot is free goes at once (no added latency when idle); items that
 * arrive while every slot is busy wait and go together when one frees, so the calls grow with the
 * load instead of multiplying. `run` answers the items of a call in order.
 *
 * The one mechanism behind command-api's batched registry and rate-limiter round trips and the
 * projector's drains (the jobs active at once projected in one transaction).
 */
export class CallBatcher<Item, Result> {
  readonly #run: (items: Item[]) => Promise<Result[]>;
  readonly #options: CallBatcherOptions<Item, Result>;
  #queue: Waiting<Item, Result>[] = [];
  #calls = 0;
  /** Items of the calls running now: with the waiting ones, what maxItems bounds. */
  #itemsInCalls = 0;
  /** The pump that ends a linger, while one is armed. */
  #lingering: NodeJS.Timeout | undefined;
  /** performance.now() when the last call started. */
  #lastStart = Number.NEGATIVE_INFINITY;

  constructor(run: (items: Item[]) => Promise<Result[]>, options: CallBatcherOptions<Item, Result>) {
    this.#run = run;
    this.#options = options;
  }

  submit(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.#queue.push({ item, alone: false, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#calls < this.#options.callsInFlight && this.#queue.length > 0) {
      const wait = this.#lingerLeft();
      if (wait > 0) {
        // Unref'd: a linger never keeps a process alive (a stopping one has no items waiting anyway).
        this.#lingering ??= setTimeout(() => {
          this.#lingering = undefined;
          this.#pump();
        }, wait).unref();
        return;
      }
      const batch = this.#take();
      this.#lastStart = performance.now();
      this.#calls++;
      this.#itemsInCalls += batch.length;
      void this.#call(batch).finally(() => {
        this.#calls--;
        this.#itemsInCalls -= batch.length;
        this.#pump();
      });
    }
  }

  /** How long the next call should still wait for more items (0: go now). */
  #lingerLeft(): number {
    const linger = this.#options.linger;
    if (linger === undefined) return 0;
    // The items in running calls count too: for the projector, maxItems is the jobs BullMQ lets be
    // active at once, and those in a drain are among them.
    if (this.#queue.length + this.#itemsInCalls >= (this.#options.maxItems ?? Number.POSITIVE_INFINITY)) return 0;
    // A call never carries more than maxWeight, so a minWeight above it could never be reached.
    const enough = Math.min(linger.minWeight, this.#options.maxWeight);
    let weight = 0;
    for (const waiting of this.#queue) {
      if (waiting.alone) return 0;
      weight += this.#options.weight(waiting.item);
      if (weight >= enough) return 0;
    }
    return Math.max(0, this.#lastStart + linger.ms - performance.now());
  }

  /** The oldest waiting items, up to the item and weight bounds (at least one). */
  #take(): Waiting<Item, Result>[] {
    const maxItems = this.#options.maxItems ?? Number.POSITIVE_INFINITY;
    let weight = 0;
    let count = 0;
    for (const waiting of this.#queue) {
      const next = this.#options.weight(waiting.item);
      if (count > 0 && (waiting.alone || count >= maxItems || weight + next > this.#options.maxWeight)) break;
      weight += next;
      count++;
      if (waiting.alone) break;
    }
    return this.#queue.splice(0, count);
  }

  async #call(batch: Waiting<Item, Result>[]): Promise<void> {
    let results: Result[];
    try {
      const only = batch.length === 1 ? (batch[0] as Waiting<Item, Result>) : undefined;
      results = only && this.#options.runOne ? [await this.#options.runOne(only.item)] : await this.#run(batch.map((waiting) => waiting.item));
    } catch (error) {
      if (batch.length > 1 && this.#options.isolate?.(error)) {
        for (const waiting of batch) waiting.alone = true;
        this.#queue.unshift(...batch);
        return;
      }
      for (const waiting of batch) waiting.reject(error);
      return;
    }
    batch.forEach((waiting, i) => waiting.resolve(results[i] as Result));
  }
}
