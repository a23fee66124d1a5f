import { AppError, redisKeys, type FieldError, type NormalizedEvent, type Pool, type Redis } from '@strata/core';
import { KeyClaimBatcher } from './key-claim-batcher.ts';
import { KnownDeviceKeys } from './known-device-keys.ts';
import { valueKeyDigest } from './value-key-digest.ts';

export interface DeviceKeyRegistryOptions {
  /** MAX_KEYS_PER_DEVICE. */
  maxKeysPerDevice: number;
  /** Redis key prefix of the deployment. */
  prefix: string;
  /** A registry entry not written to for this long expires and is seeded again from device_state. */
  ttlSeconds: number;
  /** Names this process remembers as already registered (the steady state's no-round-trip path). */
  knownNamesLimit: number;
  /** Registry script calls in flight at once (KeyClaimBatcher); default 2. */
  callsInFlight?: number;
  /** Devices one script call carries at most; default 2,000. */
  maxDevicesPerCall?: number;
}

interface DeviceClaim {
  device: string;
  /** Names of this request not known locally to be registered. */
  names: Set<string>;
  /** Indexes of the request's events that carry one of those names (the ones a refusal names). */
  indexes: number[];
}

/**
 * MAX_KEYS_PER_DEVICE (decision 0044): every device's distinct value keys are registered in the queue
 * Redis, one set per (tenant, device) holding short digests of the names, updated atomically per
 * request by a Lua script (one call for the requests in flight together, KeyClaimBatcher), so the
 * cap holds across every command-api instance and concurrent requests. A registry entry that does
 * not exist is seeded from the keys of the device's stored state.
 */
export class DeviceKeyRegistry {
  readonly #options: DeviceKeyRegistryOptions;
  readonly #known: KnownDeviceKeys;
  readonly #batcher: KeyClaimBatcher;

  constructor(redis: Redis, pool: Pool, options: DeviceKeyRegistryOptions) {
    this.#options = options;
    this.#known = new KnownDeviceKeys(options.knownNamesLimit);
    this.#batcher = new KeyClaimBatcher(redis, pool, {
      maxKeysPerDevice: options.maxKeysPerDevice,
      ttlSeconds: options.ttlSeconds,
      callsInFlight: options.callsInFlight ?? 2,
      maxDevicesPerCall: options.maxDevicesPerCall ?? 2000,
    });
  }

  /**
   * Registers the value keys of a request's (valid) events, or throws 400 (field `values`) naming the
   * events of every device that would pass the cap; then nothing of the request is registered.
   * Returns undefined, synchronously, when this process knows every name to be registered already
   * (the steady state: no round trip, and no promise to wait for).
   */
  claim(tenantId: string, events: NormalizedEvent[]): Promise<void> | undefined {
    const claims = this.#unknownNames(tenantId, events);
    if (claims.length === 0) return undefined;
    const over = claims.filter((claim) => claim.names.size > this.#options.maxKeysPerDevice);
    if (over.length > 0) this.#refuse(over.map((claim) => [claim, claim.names.size]));
    return this.#register(tenantId, claims);
  }

  async #register(tenantId: string, claims: DeviceClaim[]): Promise<void> {

    // Each name's digest is computed once per request, however many devices carry it.
    const digests = new Map<string, string>();
    const digestOf = (name: string): string => {
      let value = digests.get(name);
      if (value === undefined) {
        value = valueKeyDigest(name);
        digests.set(name, value);
      }
      return value;
    };
    const outcome = await this.#batcher.claim({
      tenantId,
      devices: claims.map((claim) => ({
        key: redisKeys.deviceKeys(this.#options.prefix, tenantId, claim.device),
        device: claim.device,
        packed: Array.from(claim.names, digestOf).join(''),
      })),
    });
    if (!outcome.accepted) this.#refuse(outcome.over.map(([position, count]) => [claims[position] as DeviceClaim, count]));
    for (const claim of claims) this.#known.add(tenantId, claim.device, claim.names);
  }

  /** Per device, the names of the request this process does not know to be registered already. */
  #unknownNames(tenantId: string, events: NormalizedEvent[]): DeviceClaim[] {
    const byDevice = new Map<string, DeviceClaim>();
    // One cache lookup per device of the request, not per event (a batch is often one device's).
    const knownOf = new Map<string, ReadonlySet<string> | undefined>();
    for (let index = 0; index < events.length; index++) {
      const event = events[index] as NormalizedEvent;
      let known = knownOf.get(event.device);
      if (known === undefined && !knownOf.has(event.device)) {
        known = this.#known.get(tenantId, event.device);
        knownOf.set(event.device, known);
      }
      let claim: DeviceClaim | undefined;
      for (const name of Object.keys(event.values)) {
        if (known?.has(name)) continue;
        claim ??= byDevice.get(event.device);
        if (!claim) {
          claim = { device: event.device, names: new Set(), indexes: [] };
          byDevice.set(event.device, claim);
        }
        claim.names.add(name);
        if (claim.indexes.at(-1) !== index) claim.indexes.push(index);
      }
    }
    return [...byDevice.values()];
  }

  #refuse(over: [DeviceClaim, number][]): never {
    const cap = this.#options.maxKeysPerDevice;
    const details: FieldError[] = [];
    for (const [claim, count] of over) {
      const reason = `device "${claim.device}" would hold ${count} distinct value keys; at most ${cap} are allowed (MAX_KEYS_PER_DEVICE)`;
      for (const index of claim.indexes) details.push({ index, field: 'values', reason });
    }
    details.sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    const events = details.length;
    throw new AppError(400, 'invalid_events', `${events} event${events === 1 ? '' : 's'} would pass the limit of ${cap} value keys per device; nothing was stored`, {
      details,
    });
  }
}
