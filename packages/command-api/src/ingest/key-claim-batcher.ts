import { unavailable, type Pool, type Redis } from '@strata/core';
import { selectDeviceValueKeys } from '../queries/select-device-value-keys.ts';
import { CLAIM_DEVICE_KEYS, NO_SEED } from './claim-device-keys-script.ts';
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
  /** Script calls in flight at once; claims arriving meanwhile wait and share the next call. */
  callsInFlight: number;
  /** Devices one call carries at most; a larger request goes alone (a request is never split). */
  maxDevicesPerCall: number;
}

interface Pending {
  claim: RequestKeyClaim;
  /** Packed seed digests by device position, once the device was found without an entry. */
  seeds: Map<number, string>;
  /** Script calls this claim has been through. */
  rounds: number;
  /** Sent in a call of its own (after a call it shared failed in the script). */
  alone: boolean;
  resolve: (outcome: KeyClaimOutcome) => void;
  reject: (error: unknown) => void;
}

/** Tries to claim this many times when seeds race with expiring entries, then answers 503. */
const MAX_ROUNDS = 3;

/**
 * Runs the claims of concurrent requests through the registry script together: while a call is in
 * flight, the claims that arrive wait and go in the next one, and the devices found without an entry
 * are read from device_state in one statement per call. A burst of first writes (a new fleet, a
 * restarted process with an empty cache) thus costs a few round trips per call instead of up to
 * three per request. Nothing waits when idle: a claim arriving with a call slot free goes at once.
 */
export class KeyClaimBatcher {
  readonly #redis: Redis;
  readonly #pool: Pool;
  readonly #options: KeyClaimBatcherOptions;
  #queue: Pending[] = [];
  #calls = 0;

  constructor(redis: Redis, pool: Pool, options: KeyClaimBatcherOptions) {
    this.#redis = redis;
    this.#pool = pool;
    this.#options = options;
  }

  claim(claim: RequestKeyClaim): Promise<KeyClaimOutcome> {
    return new Promise<KeyClaimOutcome>((resolve, reject) => {
      this.#queue.push({ claim, seeds: new Map(), rounds: 0, alone: false, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#calls < this.#options.callsInFlight && this.#queue.length > 0) {
      const batch = this.#take();
      this.#calls++;
      void this.#call(batch).finally(() => {
        this.#calls--;
        this.#pump();
      });
    }
  }

  /** The oldest claims, up to the call's bound on devices (at least one claim). */
  #take(): Pending[] {
    let devices = 0;
    let count = 0;
    for (const pending of this.#queue) {
      const size = pending.claim.devices.length;
      if (count > 0 && (pending.alone || devices + size > this.#options.maxDevicesPerCall)) break;
      devices += size;
      count++;
      if (pending.alone) break;
    }
    return this.#queue.splice(0, count);
  }

  async #call(batch: Pending[]): Promise<void> {
    let replies: number[][];
    try {
      replies = (await CLAIM_DEVICE_KEYS.run(this.#redis, ...this.#arguments(batch))) as number[][];
    } catch (error) {
      // The script itself failed (Redis answered, with an error): no request may fail another's, so
      // each goes again alone. Redis away or slow fails every claim of the call, as it would alone.
      if (batch.length > 1 && error instanceof Error && error.name === 'ReplyError') {
        for (const pending of batch) pending.alone = true;
        this.#queue.unshift(...batch);
        return;
      }
      const refusal = unavailable('cannot check the keys per device right now; retry', error);
      for (const pending of batch) pending.reject(refusal);
      return;
    }
    const unseeded: [Pending, number[]][] = [];
    batch.forEach((pending, i) => {
      const reply = replies[i] as number[];
      pending.rounds++;
      if (reply[0] === 0) pending.resolve({ accepted: true });
      else if (reply[0] === 2) {
        const over: [number, number][] = [];
        for (let j = 1; j < reply.length; j += 2) over.push([(reply[j] as number) - 1, reply[j + 1] as number]);
        pending.resolve({ accepted: false, over });
      } else if (pending.rounds >= MAX_ROUNDS) pending.reject(unavailable('the value-key registry is busy; retry'));
      else unseeded.push([pending, reply.slice(1).map((position) => position - 1)]);
    });
    // Seeding does not hold the call slot: the next call can go while device_state answers.
    if (unseeded.length > 0) void this.#seed(unseeded);
  }

  #arguments(batch: Pending[]): [string[], (string | number)[]] {
    const keys: string[] = [];
    const args: (string | number)[] = [this.#options.maxKeysPerDevice, this.#options.ttlSeconds];
    for (const pending of batch) {
      args.push(pending.claim.devices.length);
      pending.claim.devices.forEach((device, position) => {
        keys.push(device.key);
        args.push(device.packed, pending.seeds.get(position) ?? NO_SEED);
      });
    }
    return [keys, args];
  }

  /** Reads the stored keys of every device the script found without an entry, then claims again. */
  async #seed(unseeded: [Pending, number[]][]): Promise<void> {
    const tenants: string[] = [];
    const devices: string[] = [];
    for (const [pending, positions] of unseeded) {
      for (const position of positions) {
        tenants.push(pending.claim.tenantId);
        devices.push((pending.claim.devices[position] as DeviceKeyClaim).device);
      }
    }
    let stored: Map<number, string[]>;
    try {
      stored = await selectDeviceValueKeys(this.#pool, tenants, devices);
    } catch (error) {
      const refusal = unavailable('cannot check the keys per device right now; retry', error);
      for (const [pending] of unseeded) pending.reject(refusal);
      return;
    }
    let pair = 0;
    for (const [pending, positions] of unseeded) {
      for (const position of positions) pending.seeds.set(position, (stored.get(pair++) ?? []).map(valueKeyDigest).join(''));
    }
    // Ahead of newer claims: these have waited longest.
    this.#queue.unshift(...unseeded.map(([pending]) => pending));
    this.#pump();
  }
}
