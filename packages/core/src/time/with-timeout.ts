/** A wait that ran out: the one error every deadline in Strata rejects with. */
export class TimeoutError extends Error {
  constructor(ms: number, options?: ErrorOptions) {
    super(`no answer within ${ms} ms`, options);
    this.name = 'TimeoutError';
  }
}

export interface WithTimeoutOptions {
  /**
   * False lets the process exit while only this deadline is pending (a CLI closing its clients must
   * not be held up by the bound on that close); by default the deadline keeps the process alive.
   */
  keepAlive?: boolean;
}

/**
 * `work`'s outcome, or a TimeoutError after `ms`, whichever comes first. The abandoned work is not
 * cancelled: it is ended by its driver's own timeouts, so this bounds the wait, not the work.
 */
export async function withTimeout<T>(work: Promise<T>, ms: number, options: WithTimeoutOptions = {}): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(ms)), ms);
    if (options.keepAlive === false) timer.unref();
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
