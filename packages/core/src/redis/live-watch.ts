import type { ChainableCommander, Redis } from 'ioredis';
import { redisKeys } from './redis-keys.ts';

/*
 * A tenant's live watch (decision 0087): query-api marks a tenant watched while it has a live client
 * and LIVE_RESUME_SECONDS after; the projector's write-through script logs and publishes the tenant's
 * updates only while it is. The mark is the key redisKeys.liveWatch holding a deadline in epoch
 * milliseconds of the Redis server's own clock (so no process's clock enters the comparison), and the
 * key has no TTL: under any `volatile-*` eviction policy a key without a TTL is never evicted (a short
 * TTL would make it the first one evicted under `volatile-ttl`, silently stopping every connected
 * client's updates), and the script reads it with GET, which keeps it recent under an LRU or LFU
 * policy. A lapsed mark stays behind as one small key per tenant that was ever watched.
 */

/** Sets KEYS[1] to the server's time plus ARGV[1] seconds. */
const SET_LUA = `
local now = redis.call('TIME')
redis.call('SET', KEYS[1], string.format('%d', now[1] * 1000 + math.floor(now[2] / 1000) + tonumber(ARGV[1]) * 1000))
return 1`;

/** A Lua function for scripts that must know whether a tenant is watched: `isLiveWatched(key)`. */
export const IS_LIVE_WATCHED_LUA = `
local function isLiveWatched(key)
  local deadline = tonumber(redis.call('GET', key) or '0') or 0
  if deadline == 0 then return false end
  local now = redis.call('TIME')
  return deadline > now[1] * 1000 + math.floor(now[2] / 1000)
end`;

const COMMAND = 'strataSetLiveWatch';
type SetWatch = (key: string, seconds: number) => Promise<unknown>;

/** Registers the command on a connection (ioredis then calls the script by its SHA, on pipelines too). */
export function defineLiveWatchCommand(redis: Redis): void {
  redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: SET_LUA });
}

/** Marks `tenantId` watched for `seconds` from now; the connection must have defineLiveWatchCommand. */
export async function setLiveWatch(redis: Redis, prefix: string, tenantId: string, seconds: number): Promise<void> {
  await command(redis).call(redis, redisKeys.liveWatch(prefix, tenantId), seconds);
}

/** The same as setLiveWatch, queued on a pipeline (renewals of many tenants in one round trip). */
export function queueLiveWatch(pipeline: ChainableCommander, prefix: string, tenantId: string, seconds: number): void {
  void command(pipeline).call(pipeline, redisKeys.liveWatch(prefix, tenantId), seconds);
}

function command(target: Redis | ChainableCommander): SetWatch {
  const run = (target as unknown as Record<string, SetWatch | undefined>)[COMMAND];
  if (typeof run !== 'function') throw new Error('setLiveWatch: call defineLiveWatchCommand on this connection first');
  return run;
}
