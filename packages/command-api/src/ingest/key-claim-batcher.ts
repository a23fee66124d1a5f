import { CallBatcher, unavailable, type Pool, type Redis } from '@strata/core';
import { selectDeviceValueKeys } from '../queries/select-device-value-keys.ts';
import { CLAIM_DEVICE_KEYS, NO_SEED } from './claim-device-keys-script.ts';
import { isReplyError } from './is-reply-error.ts';
import { valueKeyDigest } from './value-key-digest.ts';

/** One device of a request's claim. */
export interface DeviceKeyClaim {
  /** Its registry set (redisKeys.deviceKeys). */
  key: string;
  device: string;
  /** Digests of the names to claim, packed end to end. */
  packed: string;
}

export interface RequestKeyClaim {
  tenantId: string;
  devices: DeviceKeyClaim[];
}

/** Accepted (all registered), or the devices past the cap: [position in `devices`, keys it would hold]. */
export type KeyClaimOutcome = { accepted: true } | { accepted: false; over: [number, number][] };

export interface KeyClaimBatcherOptions {
  maxKeysPerDevice: number;
  ttlSeconds: number;
  /** Script calls (and device_state reads) in flight at once; claims arriving meanwhile share the next. */
  callsInFlight: number;
  /** Devices one call carries at most; a larger request goes alone (a request is never split). */
  maxDevicesPerCall: number;
}

interface ScriptItem {
  claim: RequestKeyClaim;
  /** Packed seed digests by device position, for the devices found without an entry. */
  seeds: Map<number, string>;
}

interface SeedItem {
  tenantId: string;
  device: string;
}

/** Tries to claim this many times when seeds race with expiring entries, then answers 503. */
const MAX_ROUNDS = 3;

/**
 * Runs the claims of concurrent requests through the registry script together (CallBatcher), and
 * reads the stored keys of the devices found without an entry in one statement per group. A burst of
 * first writes (a new fleet, a restarted process with an empty cache) thus costs a few round trips
 * per group of requests instead of up to three per request. Each request is still claimed on its own
 * by the script, all or nothing.
 */
export class KeyClaimBatcher {
  readonly #options: KeyClaimBatcherOptions;
  readonly #calls: CallBatcher<ScriptItem, number[]>;
  readonly #seeds: CallBatcher<SeedItem, string[]>;

  constructor(redis: Redis, pool: Pool, options: KeyClaimBatcherOptions) {
    this.#options = options;
    this.#calls = new CallBatcher((items) => this.#runScript(redis, items), {
      callsInFlight: options.callsInFlight,
      maxWeight: options.maxDevicesPerCall,
      weight: (item) => item.claim.devices.length,
      // The script failing on one request's entry (WRONGTYPE, say) must not refuse the others.
      isolate: isReplyError,
    });
    this.#seeds = new CallBatcher((items) => readSeeds(pool, items), {
      callsInFlight: options.callsInFlight,
      maxWeight: options.maxDevicesPerCall,
      weight: () => 1,
    });
  }

  async claim(claim: RequestKeyClaim): Promise<KeyClaimOutcome> {
    const seeds = new Map<number, string>();
    for (let round = 0; round < MAX_ROUNDS; round++) {
      let reply: number[];
      try {
        reply = await this.#calls.submit({ claim, seeds });
      } catch (error) {
        throw unavailable('cannot check the keys per device right now; retry', error);
      }
      if (reply[0] === 0) return { accepted: true };
      if (reply[0] === 2) {
        const over: [number, number][] = [];
        for (let i = 1; i < reply.length; i += 2) over.push([(reply[i] as number) - 1, reply[i + 1] as number]);
        return { accepted: false, over };
      }
      const positions = reply.slice(1).map((position) => position - 1);
      let stored: string[][];
      try {
        stored = await Promise.all(
          positions.map((position) => this.#seeds.submit({ tenantId: claim.tenantId, device: (claim.devices[position] as DeviceKeyClaim).device })),
        );
      } catch (error) {
        throw unavailable('cannot check the keys per device right now; retry', error);
      }
      positions.forEach((position, i) => seeds.set(position, (stored[i] as string[]).map(valueKeyDigest).join('')));
    }
    throw unavailable('the value-key registry is busy; retry');
  }

  async #runScript(redis: Redis, items: ScriptItem[]): Promise<number[][]> {
    const keys: string[] = [];
    const args: (string | number)[] = [this.#options.maxKeysPerDevice, this.#options.ttlSeconds];
    for (const { claim, seeds } of items) {
      args.push(claim.devices.length);
      claim.devices.forEach((device, position) => {
        keys.push(device.key);
        args.push(device.packed, seeds.get(position) ?? NO_SEED);
      });
    }
    return (await CLAIM_DEVICE_KEYS.run(redis, keys, args)) as number[][];
  }
}

/** The keys each device's stored state holds (none for a device without state yet). */
async function readSeeds(pool: Pool, items: SeedItem[]): Promise<string[][]> {
  const stored = await selectDeviceValueKeys(
    pool,
    items.map((item) => item.tenantId),
    items.map((item) => item.device),
  );
  return items.map((_, i) => stored.get(i) ?? []);
}
