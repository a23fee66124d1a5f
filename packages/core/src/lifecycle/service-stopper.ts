/**
 * The one way a running service tracks "closing" and stops (decision 0070). `isClosing()` turns true
 * the moment stopping begins, so readiness answers 503 from then on; `stop()` runs the service's
 * stop steps once, however often and from wherever it is called (a signal, a test, a failed start);
 * `guardStart` stops what was already started when start-up fails, because the caller then has no
 * handle to stop it with.
 */
export class ServiceStopper {
  readonly #steps: () => Promise<void>;
  #closing = false;
  #stopped: Promise<void> | undefined;

  /** `steps` stop intake first, then background loops and in-flight work; they leave the deps open. */
  constructor(steps: () => Promise<void>) {
    this.#steps = steps;
  }

  readonly isClosing = (): boolean => this.#closing;

  readonly stop = (): Promise<void> => {
    this.#closing = true;
    this.#stopped ??= this.#steps();
    return this.#stopped;
  };

  async guardStart(start: () => Promise<void>): Promise<void> {
    try {
      await start();
    } catch (error) {
      await this.stop();
      throw error;
    }
  }
}
