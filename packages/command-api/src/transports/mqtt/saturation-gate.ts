export interface SaturationGateOptions {
  /** Events the group committer holds now. */
  heldEvents: () => number;
  /** Intake pauses once the committer holds this many... */
  pauseAt: number;
  /** ...and resumes once it holds fewer than this. */
  resumeBelow: number;
  /** How often the held count is looked at while paused. */
  pollMs: number;
  /** Told when intake must pause (true) and may resume (false). */
  onChange: (saturated: boolean) => void;
}

/**
 * Backpressure from the group committer to the MQTT sockets. The committer bounds the events it
 * holds and refuses past the bound (HTTP answers 503); an MQTT client cannot be told "retry" without
 * losing its connection, so sockets stop being read a little before that bound instead, and the
 * client's own TCP window holds its messages rather than our memory. Checked as messages come in and
 * polled only while paused.
 */
export class SaturationGate {
  readonly #options: SaturationGateOptions;
  #saturated = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: SaturationGateOptions) {
    this.#options = options;
  }

  get saturated(): boolean {
    return this.#saturated;
  }

  /** Looks at the committer now; pauses intake when it is past the mark. */
  check(): void {
    if (this.#saturated || this.#options.heldEvents() < this.#options.pauseAt) return;
    this.#saturated = true;
    this.#options.onChange(true);
    this.#timer = setInterval(this.#poll, this.#options.pollMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#saturated) {
      this.#saturated = false;
      this.#options.onChange(false);
    }
  }

  readonly #poll = (): void => {
    if (this.#options.heldEvents() >= this.#options.resumeBelow) return;
    this.stop();
  };
}
