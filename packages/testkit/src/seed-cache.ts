import { loadConfig, type EventValues, type Redis } from '@strata/core';
import { defineWriteStateCommand, writeThroughStates } from '@strata/projector/write-through-states';

/**
 * A device's cached state; `live` also sends every value as a live update, as a projection that changed
 * them would: logged and published only while the tenant is watched (a live client open, decision 0087).
 */
export interface SeedCachedState {
  tenantId: string;
  device: string;
  ts: string;
  values: EventValues;
  updatedAt: string;
  /** device_state.version; the cache keeps the highest. 1 by default. */
  version?: number;
  live?: boolean;
}

const defined = new WeakSet<Redis>();

/**
 * Writes cache entries (and live updates) with the projector's own write-through script, so the
 * entry's key, shape and versioning are the projector's, whatever a test wants the cache to say
 * (e.g. something other than the database, to see which one answered).
 */
export async function seedCache(redis: Redis, prefix: string, states: SeedCachedState[]): Promise<void> {
  if (!defined.has(redis)) {
    defineWriteStateCommand(redis);
    defined.add(redis);
  }
  const { cacheTtlSeconds, liveStreamMaxBytes } = loadConfig({});
  const projected = states.map((state) => {
    const t = Date.parse(state.ts);
    const valueState = Object.fromEntries(Object.entries(state.values).map(([key, v]) => [key, { v, t }]));
    const changed = state.live ? Object.keys(valueState) : [];
    return { tenantId: state.tenantId, device: state.device, ts: state.ts, state: valueState, updatedAt: state.updatedAt, version: state.version ?? 1, changed };
  });
  const result = await writeThroughStates(redis, { prefix, ttlSeconds: cacheTtlSeconds, liveStreamMaxBytes }, projected);
  if (result.errors.length > 0) throw result.errors[0]?.error;
}
