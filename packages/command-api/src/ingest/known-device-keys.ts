/**
 * Label names (issue 13) share a device's set here, marked by this first character: a value key is a
 * name and can never hold U+0000, so `team` the label and `team` the value key stay two entries.
 */
export const LABEL_MARK = '\0';

/**
 * The value keys (and marked label names) this process knows a device already holds in the shared registry, so a device that
 * sends its usual keys costs no Redis round trip. A subset is always safe: a key missing here only
 * means asking Redis. Bounded by the total number of names held; the least recently used devices go
 * first (a Map iterates in insertion order, and a hit re-inserts its device).
 */
export class KnownDeviceKeys {
  readonly #maxNames: number;
  readonly #devices = new Map<string, Set<string>>();
  #names = 0;

  constructor(maxNames: number) {
    this.#maxNames = maxNames;
  }

  /** The known keys of a device (marking it recently used), or undefined. */
  get(tenantId: string, device: string): ReadonlySet<string> | undefined {
    const id = deviceId(tenantId, device);
    const keys = this.#devices.get(id);
    if (keys) {
      this.#devices.delete(id);
      this.#devices.set(id, keys);
    }
    return keys;
  }

  /** Records keys the registry has accepted for a device. */
  add(tenantId: string, device: string, names: Iterable<string>): void {
    const id = deviceId(tenantId, device);
    const keys = this.#devices.get(id) ?? new Set<string>();
    this.#devices.delete(id);
    this.#devices.set(id, keys);
    for (const name of names) {
      if (keys.has(name)) continue;
      keys.add(name);
      this.#names++;
    }
    this.#evict(id);
  }

  /** Drops what is known of a device (its labels were replaced: the registry starts it afresh). */
  forget(tenantId: string, device: string): void {
    const id = deviceId(tenantId, device);
    const keys = this.#devices.get(id);
    if (!keys) return;
    this.#devices.delete(id);
    this.#names -= keys.size;
  }

  get names(): number {
    return this.#names;
  }

  /** Drops least recently used devices until the bound holds, never the one just added to. */
  #evict(keep: string): void {
    for (const [id, keys] of this.#devices) {
      if (this.#names <= this.#maxNames || id === keep) return;
      this.#devices.delete(id);
      this.#names -= keys.size;
    }
  }
}

// Tenant ids are UUIDs, so a NUL separator can never be part of either half.
const deviceId = (tenantId: string, device: string): string => `${tenantId}\0${device}`;

