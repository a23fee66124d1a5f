export interface SaturationGateOptions {
  /** Events the group committer holds now... */
  heldEvents: () => number;
  /** ...and of them, one tenant's. */
  heldEventsOf: (tenantId: string) => number;
  /** All intake pauses once the committer holds this many, and resumes below half. */
  pauseAt: number;
  /** A tenant's intake pauses once the committer holds this many of its events, and resumes below half. */
  tenantPauseAt: number;
  /** How often the held counts are looked at while anything is paused. */
  pollMs: number;
  /** Told when whether some connections must pause changed: ask `saturated(tenantId)` for each. */
  onChange: () => void;
}

/**
 * Backpressure from the group committer to the MQTT sockets. The committer bounds the events it
 * holds, and each tenant's share of them, and refuses past either (HTTP answers 503); an MQTT client
 * cannot be told "retry" without losing its connection, so sockets stop being read a little before
 * those bounds instead, and the client's own TCP window holds its messages rather than our memory.
 * Past the whole bound every connection pauses; past a tenant's mark only that tenant's do, so its
 * neighbours go on being read (decision 0122). Checked as messages come in and polled only while
 * something is paused.
 */
export class SaturationGate {
  readonly #options: SaturationGateOptions;
  #saturated = false;
  readonly #tenants = new Set<string>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: SaturationGateOptions) {
    this.#options = options;
  }

  /** Whether a connection of this tenant must not be read now. */
  saturated(tenantId: string): boolean {
    return this.#saturated || this.#tenants.has(tenantId);
  }

  /** Looks at the committer now, for the whole and for this tenant; pauses what is past its mark. */
  check(tenantId: string): void {
    let changed = false;
    if (!this.#saturated && this.#options.heldEvents() >= this.#options.pauseAt) {
      this.#saturated = true;
      changed = true;
    }
    if (!this.#tenants.has(tenantId) && this.#options.heldEventsOf(tenantId) >= this.#options.tenantPauseAt) {
      this.#tenants.add(tenantId);
      changed = true;
    }
    if (!changed) return;
    this.#options.onChange();
    if (this.#timer === undefined) {
      this.#timer = setInterval(this.#poll, this.#options.pollMs);
      this.#timer.unref();
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (!this.#saturated && this.#tenants.size === 0) return;
    this.#saturated = false;
    this.#tenants.clear();
    this.#options.onChange();
  }

  readonly #poll = (): void => {
    let changed = false;
    if (this.#saturated && this.#options.heldEvents() < Math.floor(this.#options.pauseAt / 2)) {
      this.#saturated = false;
      changed = true;
    }
    for (const tenantId of this.#tenants) {
      if (this.#options.heldEventsOf(tenantId) >= Math.floor(this.#options.tenantPauseAt / 2)) continue;
      this.#tenants.delete(tenantId);
      changed = true;
    }
    if (!this.#saturated && this.#tenants.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
    if (changed) this.#options.onChange();
  };
}
