import { redisKeys, type Redis } from '@strata/core';
import type { LatestState } from '../model/latest-state.ts';

export type CacheLookup = { result: 'hit'; state: LatestState } | { result: 'miss' } | { result: 'error'; error: unknown };

/**
 * The cached latest state (HASH field `b`, written through by the projector). Never throws: a
 * failing, slow or garbled cache is a miss with a reason, and the read falls back to PostgreSQL.
 * The timeout matters because a hung Redis would otherwise hold the request until ioredis gives up.
 */
export async function readCachedState(
  redis: Redis,
  key: { prefix: string; tenantId: string; device: string },
  timeoutMs: number,
): Promise<CacheLookup> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`cache did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    const body = await Promise.race([redis.hget(redisKeys.deviceState(key.prefix, key.tenantId, key.device), 'b'), timeout]);
    if (body === null) return { result: 'miss' };
    const state = parseBody(body, key.device);
    return state ? { result: 'hit', state } : { result: 'error', error: new Error('malformed cache entry') };
  } catch (error) {
    return { result: 'error', error };
  } finally {
    clearTimeout(timer);
  }
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
