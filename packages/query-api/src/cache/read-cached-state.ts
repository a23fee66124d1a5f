import { redisKeys, type Redis } from '@strata/core';
import type { LatestState } from '../model/latest-state.ts';

/** Where the projector writes latest states through: the cache Redis and the deployment's prefix. */
export interface StateCache {
  redis: Redis;
  prefix: string;
}

/**
 * The cached latest state (HASH field `b`, written through by the projector), or undefined on a miss.
 * A failing or garbled cache throws, and the read falls back to PostgreSQL. No deadline of its own:
 * the router runs it under the cache breaker's, the one a cache read has.
 */
export async function readCachedState(cache: StateCache, key: { tenantId: string; device: string }): Promise<LatestState | undefined> {
  const body = await cache.redis.hget(redisKeys.deviceState(cache.prefix, key.tenantId, key.device), 'b');
  if (body === null) return undefined;
  const state = parseBody(body, key.device);
  if (!state) throw new Error('malformed cache entry');
  return state;
}

function parseBody(body: string, device: string): LatestState | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const entry = parsed as Record<string, unknown>;
  // The key names the device, but a body for another device would leak nothing useful and mean a bug.
  if (entry.device !== device || typeof entry.ts !== 'string' || typeof entry.updatedAt !== 'string') return undefined;
  if (typeof entry.values !== 'object' || entry.values === null || Array.isArray(entry.values)) return undefined;
  return { device, ts: entry.ts, values: entry.values as LatestState['values'], updatedAt: entry.updatedAt };
}
