import { CACHED_STATE_FIELDS, decodeCachedState, isName, redisKeys, type Labels, type Redis } from '@strata/core';
import type { LatestState } from '../model/latest-state.ts';

/** Where the projector writes latest states through: the cache Redis and the deployment's prefix. */
export interface StateCache {
  redis: Redis;
  prefix: string;
}

/**
 * Where command-api and the refresher write a device's labels through after commit (the issue 13
 * contract: `labels:{tenant}:{device}` = JSON `{v, labels}`, newest version wins), under the prefix
 * as every key. Spelled here until core's redisKeys has it.
 */
export function cachedLabelsKey(prefix: string, tenantId: string, device: string): string {
  return `${prefix}:labels:${tenantId}:${device}`;
}

/**
 * The cached latest state (core's schemas/cached-state.ts, written through by the projector) with the
 * device's cached labels, both in one round trip, or undefined on a miss. No labels entry reads as no
 * labels: a device's labels are written through when they change, and most devices never have any
 * (a miss for each would send every `cache` read of them to the database). A failing or garbled cache
 * throws, and the read falls back to PostgreSQL. No deadline of its own: the router runs it under the
 * cache breaker's, the one a cache read has.
 */
export async function readCachedState(cache: StateCache, key: { tenantId: string; device: string }): Promise<LatestState | undefined> {
  const replies = await cache.redis
    .pipeline()
    .hget(redisKeys.deviceState(cache.prefix, key.tenantId, key.device), CACHED_STATE_FIELDS.body)
    .get(cachedLabelsKey(cache.prefix, key.tenantId, key.device))
    .exec();
  if (!replies) throw new Error('cache pipeline discarded');
  for (const [error] of replies) if (error) throw error;
  const [body, labelsEntry] = replies.map(([, value]) => value) as [string | null, string | null];
  if (body === null) return undefined;
  const state = decodeCachedState(body, key.device);
  const labels = labelsEntry === null ? {} : decodeCachedLabels(labelsEntry);
  if (!state || !labels) throw new Error('malformed cache entry');
  return { ...state, labels };
}

/** `{v, labels}` → the labels, or undefined when the entry is not that shape. */
function decodeCachedLabels(entry: string): Labels | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(entry);
  } catch {
    return undefined;
  }
  const labels = (parsed as { labels?: unknown } | null)?.labels;
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) return undefined;
  for (const [name, value] of Object.entries(labels)) {
    if (!isName(name) || typeof value !== 'string' || !isName(value)) return undefined;
  }
  return labels as Labels;
}
