import { createHash } from 'node:crypto';
import { AppError, redisKeys, unavailable, type FieldError, type NormalizedEvent, type Pool, type Redis } from '@strata/core';
import { selectDeviceValueKeys } from '../queries/select-device-value-keys.ts';
import { CLAIM_DEVICE_KEYS, DIGEST_LENGTH, NO_SEED } from './claim-device-keys-script.ts';
import { KnownDeviceKeys } from './known-device-keys.ts';

export interface DeviceKeyRegistryOptions {
  /** MAX_KEYS_PER_DEVICE. */
  maxKeysPerDevice: number;
  /** Redis key prefix of the deployment. */
  prefix: string;
  /** A registry entry not written to for this long expires and is seeded again from device_state. */
  ttlSeconds: number;
  /** Names this process remembers as already registered (the steady state's no-round-trip path). */
  knownNamesLimit: number;
}

interface DeviceClaim {
  device: string;
  /** Names of this request not known locally to be registered. */
  names: Set<string>;
  /** Their digests packed end to end, as the script takes them; computed once per request. */
  packed: string;
  /** Indexes of the request's events that carry one of those names (the ones a refusal names). */
  indexes: number[];
}

/** Tries to claim this many times when seeds race with expiring entries, then answers 503. */
const MAX_ROUNDS = 3;

/**
 * MAX_KEYS_PER_DEVICE (decision 0044): every device's distinct value keys are registered in the queue
 * Redis, one set per (tenant, device) holding short digests of the names, updated by one Lua script
 * per request, so the cap holds across every command-api instance and concurrent requests. A
 * registry entry that does not exist is seeded from the keys of the device's stored state.
 */
export class DeviceKeyRegistry {
  readonly #redis: Redis;
  readonly #pool: Pool;
  readonly #options: DeviceKeyRegistryOptions;
  readonly #known: KnownDeviceKeys;

  constructor(redis: Redis, pool: Pool, options: DeviceKeyRegistryOptions) {
    this.#redis = redis;
    this.#pool = pool;
    this.#options = options;
    this.#known = new KnownDeviceKeys(options.knownNamesLimit);
  }

  /**
   * Registers the value keys of a request's (valid) events, or throws 400 (field `values`) naming the
   * events of every device that would pass the cap; then nothing of the request is registered.
   */
  async claim(tenantId: string, events: NormalizedEvent[]): Promise<void> {
    const claims = this.#unknownNames(tenantId, events);
    if (claims.length === 0) return;
    const over = claims.filter((claim) => claim.names.size > this.#options.maxKeysPerDevice);
    if (over.length > 0) this.#refuse(over.map((claim) => [claim, claim.names.size]));

    // Each name's digest is computed once per request, however many devices carry it or rounds it takes.
    const digests = new Map<string, string>();
    const digestOf = (name: string): string => {
      let value = digests.get(name);
      if (value === undefined) {
        value = digest(name);
        digests.set(name, value);
      }
      return value;
    };
    for (const claim of claims) claim.packed = Array.from(claim.names, digestOf).join('');
    let seeds = new Map<string, string>();
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const reply = (await this.#run(tenantId, claims, seeds)) as number[];
      if (reply[0] === 0) {
        for (const claim of claims) this.#known.add(tenantId, claim.device, claim.names);
        return;
      }
      if (reply[0] === 2) {
        const refused: [DeviceClaim, number][] = [];
        for (let i = 1; i < reply.length; i += 2) refused.push([claims[(reply[i] as number) - 1] as DeviceClaim, reply[i + 1] as number]);
        this.#refuse(refused);
      }
      const needSeed = reply.slice(1).map((i) => (claims[i - 1] as DeviceClaim).device);
      for (const [device, names] of await this.#seeds(tenantId, needSeed)) seeds.set(device, names.map(digestOf).join(''));
    }
    throw unavailable('the value-key registry is busy; retry');
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
          claim = { device: event.device, names: new Set(), packed: '', indexes: [] };
          byDevice.set(event.device, claim);
        }
        claim.names.add(name);
        if (claim.indexes.at(-1) !== index) claim.indexes.push(index);
      }
    }
    return [...byDevice.values()];
  }

  async #run(tenantId: string, claims: DeviceClaim[], seeds: Map<string, string>): Promise<unknown> {
    const keys: string[] = [];
    const args: (string | number)[] = [this.#options.maxKeysPerDevice, this.#options.ttlSeconds];
    for (const claim of claims) {
      keys.push(redisKeys.deviceKeys(this.#options.prefix, tenantId, claim.device));
      args.push(claim.packed, seeds.get(claim.device) ?? NO_SEED);
    }
    try {
      return await CLAIM_DEVICE_KEYS.run(this.#redis, keys, args);
    } catch (error) {
      throw unavailable('cannot check the keys per device right now; retry', error);
    }
  }

  /** The stored keys of each device (none for a device without state yet). */
  async #seeds(tenantId: string, devices: string[]): Promise<Map<string, string[]>> {
    let stored: Map<string, string[]>;
    try {
      stored = await selectDeviceValueKeys(this.#pool, tenantId, devices);
    } catch (error) {
      throw unavailable('cannot check the keys per device right now; retry', error);
    }
    return new Map(devices.map((device) => [device, stored.get(device) ?? []]));
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

/**
 * Registry members are short digests, not the names: a name may be 128 characters (up to 512 bytes),
 * and the registry lives in the queue Redis, which must never fill up. 66 bits make a collision among
 * one device's keys vanishingly unlikely, and its only effect would be one key too many.
 */
function digest(name: string): string {
  return createHash('sha256').update(name).digest('base64url').slice(0, DIGEST_LENGTH);
}
