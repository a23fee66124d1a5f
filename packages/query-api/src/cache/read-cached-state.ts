import { CACHED_STATE_FIELDS, decodeCachedState, redisKeys, type Redis } from '@strata/core';
import type { LatestState } from '../model/latest-state.ts';

/** Where the projector writes latest states through: the cache Redis and the deployment's prefix. */
export interface StateCache {
  redis: Redis;
  prefix: string;
}

/**
 * The cached latest state (core's schemas/cached-state.ts, written through by the projector), or undefined on a miss.
 * A failing or garbled cache throws, and the read falls back to PostgreSQL. No deadline of its own:
 * the router runs it under the cache breaker's, the one a cache read has.
 */
export async function readCachedState(cache: StateCache, key: { tenantId: string; device: string }): Promise<LatestState | undefined> {
  const body = await cache.redis.hget(redisKeys.deviceState(cache.prefix, key.tenantId, key.device), CACHED_STATE_FIELDS.body);
  if (body === null) return undefined;
  const state = decodeCachedState(body, key.device);
  if (!state) throw new Error('malformed cache entry');
  return state;
}
