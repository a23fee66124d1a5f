import { AppError, EVENT_LIMITS, redisKeys, unavailable, type FieldError, type NormalizedEvent, type Pool, type Redis } from '@strata/core';
import { selectDeviceLabelNames } from '../queries/select-device-label-names.ts';
import { LABEL_SET_SUFFIX } from './claim-device-keys-script.ts';
import { KeyClaimBatcher } from './key-claim-batcher.ts';
import { KnownDeviceKeys, LABEL_MARK } from './known-device-keys.ts';
import { valueKeyDigest } from './value-key-digest.ts';

/**
 * What a label set's claim names as its device for seeding: no device is called this (DEVICE_PATTERN
 * has no `#`), so a label set without an entry is seeded empty; its claim already carries the labels
 * the device holds (selectDeviceLabelNames), which is its true seed.
 */
const LABEL_SEED_SOURCE = '#labels';

type ClaimKind = 'values' | 'labels';

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
  /** Value keys (field `values`, MAX_KEYS_PER_DEVICE) or label names (field `labels`, maxLabels). */
  kind: ClaimKind;
  /** Names of this request not known locally to be registered. */
  names: Set<string>;
  /** Label claims: the labels the device holds in label_versions, claimed again with the new ones. */
  held?: string[];
  /** Indexes of the request's events that carry one of those names (the ones a refusal names). */
  indexes: number[];
}

/**
 * MAX_KEYS_PER_DEVICE (decision 0044): every device's distinct value keys are registered in the queue
 * Redis, one set per (tenant, device) holding short digests of the names, updated atomically per
 * request by a Lua script (one call for the requests in flight together, KeyClaimBatcher), so the
 * cap holds across every command-api instance and concurrent requests. A registry entry that does
 * not exist is seeded from the keys of the device's stored state.
 *
 * Label names (issue 13) are capped the same way at EVENT_LIMITS.maxLabels distinct names a device,
 * in a set of their own claimed in the same script call, so a request refused for either leaves no
 * trace in both. A label claim always carries the labels the device holds (one indexed read per
 * request that names a label this process does not know), so an expired or lost entry restarts from
 * them. PUT/PATCH replace a device's labels and drop its set (forgetLabels), so a removed label
 * frees its place.
 */
export class DeviceKeyRegistry {
  readonly #options: DeviceKeyRegistryOptions;
  readonly #redis: Redis;
  readonly #pool: Pool;
  readonly #known: KnownDeviceKeys;
  readonly #batcher: KeyClaimBatcher;

  constructor(redis: Redis, pool: Pool, options: DeviceKeyRegistryOptions) {
    this.#options = options;
    this.#redis = redis;
    this.#pool = pool;
    this.#known = new KnownDeviceKeys(options.knownNamesLimit);
    this.#batcher = new KeyClaimBatcher(redis, pool, {
      maxKeysPerDevice: options.maxKeysPerDevice,
      ttlSeconds: options.ttlSeconds,
      callsInFlight: options.callsInFlight ?? 2,
      maxDevicesPerCall: options.maxDevicesPerCall ?? 2000,
    });
  }

  /**
   * Registers the value keys and label names of a request's (valid) events, or throws 400 (field
   * `values` or `labels`) naming the events of every device that would pass a cap; then nothing of
   * the request is registered.
   * Returns undefined, synchronously, when this process knows every name to be registered already
   * (the steady state: no round trip, and no promise to wait for).
   */
  claim(tenantId: string, events: NormalizedEvent[]): Promise<void> | undefined {
    const claims = this.#unknownNames(tenantId, events);
    if (claims.length === 0) return undefined;
    const over = claims.filter((claim) => claim.names.size > this.#capOf(claim.kind));
    if (over.length > 0) this.#refuse(over.map((claim) => [claim, claim.names.size]));
    return this.#register(tenantId, claims);
  }

  /**
   * Forgets the label names registered for a device, after PUT/PATCH committed its labels: the next
   * claim starts from the labels it now holds. Another instance may still know a removed name
   * locally; it then skips the registry for that name alone, as it did before the write.
   */
  async forgetLabels(tenantId: string, device: string): Promise<void> {
    this.#known.forget(tenantId, device);
    await this.#redis.del(labelSetKey(this.#options.prefix, tenantId, device));
  }

  #capOf(kind: ClaimKind): number {
    return kind === 'labels' ? EVENT_LIMITS.maxLabels : this.#options.maxKeysPerDevice;
  }

  async #register(tenantId: string, claims: DeviceClaim[]): Promise<void> {
    await this.#readHeldLabels(tenantId, claims);
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
        key: claim.kind === 'values' ? redisKeys.deviceKeys(this.#options.prefix, tenantId, claim.device) : labelSetKey(this.#options.prefix, tenantId, claim.device),
        device: claim.kind === 'values' ? claim.device : LABEL_SEED_SOURCE,
        packed: Array.from(claimedNames(claim), digestOf).join(''),
      })),
    });
    if (!outcome.accepted) this.#refuse(outcome.over.map(([position, count]) => [claims[position] as DeviceClaim, count]));
    for (const claim of claims) {
      const mark = claim.kind === 'values' ? '' : LABEL_MARK;
      this.#known.add(tenantId, claim.device, Array.from(claimedNames(claim), (name) => mark + name));
    }
  }

  /** The labels each label claim's device holds now (label_versions), in one statement. */
  async #readHeldLabels(tenantId: string, claims: DeviceClaim[]): Promise<void> {
    const labelClaims = claims.filter((claim) => claim.kind === 'labels');
    if (labelClaims.length === 0) return;
    let held: Map<number, string[]>;
    try {
      held = await selectDeviceLabelNames(this.#pool, labelClaims.map(() => tenantId), labelClaims.map((claim) => claim.device));
    } catch (error) {
      throw unavailable('cannot check the labels per device right now; retry', error);
    }
    labelClaims.forEach((claim, i) => (claim.held = held.get(i) ?? []));
  }

  /** Per device and kind, the names of the request this process does not know to be registered. */
  #unknownNames(tenantId: string, events: NormalizedEvent[]): DeviceClaim[] {
    const byDevice = new Map<string, DeviceClaim>();
    const byDeviceLabels = new Map<string, DeviceClaim>();
    for (let index = 0; index < events.length; index++) {
      const event = events[index] as NormalizedEvent;
      // Two map lookups by the event's own strings (KnownDeviceKeys): no per-request cache needed.
      const known = this.#known.get(tenantId, event.device);
      collect(byDevice, 'values', event.device, index, Object.keys(event.values), known, '');
      if (event.labels) collect(byDeviceLabels, 'labels', event.device, index, Object.keys(event.labels), known, LABEL_MARK);
    }
    return [...byDevice.values(), ...byDeviceLabels.values()];
  }

  #refuse(over: [DeviceClaim, number][]): never {
    const cap = this.#options.maxKeysPerDevice;
    const details: FieldError[] = [];
    for (const [claim, count] of over) {
      const reason =
        claim.kind === 'values'
          ? `device "${claim.device}" would hold ${count} distinct value keys; at most ${cap} are allowed (MAX_KEYS_PER_DEVICE)`
          : `device "${claim.device}" would hold ${count} distinct labels; at most ${EVENT_LIMITS.maxLabels} are allowed`;
      for (const index of claim.indexes) details.push({ index, field: claim.kind, reason });
    }
    details.sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    const events = new Set(details.map((detail) => detail.index)).size;
    const limits = over.some(([claim]) => claim.kind === 'labels') ? `the limit of ${cap} value keys or ${EVENT_LIMITS.maxLabels} labels` : `the limit of ${cap} value keys`;
    throw new AppError(400, 'invalid_events', `${events} event${events === 1 ? '' : 's'} would pass ${limits} per device; nothing was stored`, {
      details,
    });
  }
}

/** What a claim registers: its new names, and for labels the ones the device holds beside them. */
function claimedNames(claim: DeviceClaim): Set<string> {
  return claim.held === undefined || claim.held.length === 0 ? claim.names : new Set([...claim.names, ...claim.held]);
}

/** A device's label-name set: its value-key set's name with LABEL_SET_SUFFIX (never a device's own). */
function labelSetKey(prefix: string, tenantId: string, device: string): string {
  return `${redisKeys.deviceKeys(prefix, tenantId, device)}${LABEL_SET_SUFFIX}`;
}

/** Adds the names of one event not known to be registered to its device's claim of that kind. */
function collect(
  claims: Map<string, DeviceClaim>,
  kind: ClaimKind,
  device: string,
  index: number,
  names: string[],
  known: ReadonlySet<string> | undefined,
  mark: string,
): void {
  let claim: DeviceClaim | undefined;
  for (const name of names) {
    if (known?.has(mark + name)) continue;
    claim ??= claims.get(device);
    if (!claim) {
      claim = { device, kind, names: new Set(), indexes: [] };
      claims.set(device, claim);
    }
    claim.names.add(name);
    if (claim.indexes.at(-1) !== index) claim.indexes.push(index);
  }
}
