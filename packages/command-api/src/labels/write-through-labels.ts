import type { Redis } from '@strata/core';
import { LuaScript } from '../ingest/lua-script.ts';

/**
 * Newest version wins, atomically: a PUT/PATCH and the projector's refresher write a device's labels
 * after their commits, in either order, and the entry must end on the newest. An entry that is not
 * the contract's shape is replaced. No TTL: query-api reads a missing entry as "no labels" (most
 * devices have none), so the entry must live as long as the cached state it is read with.
 */
const WRITE_IF_NEWER = new LuaScript(`
local current = redis.call('GET', KEYS[1])
if current then
  local ok, decoded = pcall(cjson.decode, current)
  if ok and type(decoded) == 'table' and tonumber(decoded.v) and tonumber(decoded.v) > tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`);

/**
 * Where a device's labels are cached (the issue 13 contract: `labels:{tenant}:{device}` under the
 * deployment's prefix, as query-api's read-cached-state reads it).
 */
export function cachedLabelsKey(prefix: string, tenantId: string, device: string): string {
  return `${prefix}:labels:${tenantId}:${device}`;
}

/**
 * Writes `{"v": version, "labels": {...}}` unless the cache holds a newer version. `labelsJson` is
 * the labels as JSON text, spliced in as is (a label named `__proto__` stays one). Returns whether it
 * was written.
 */
export async function writeThroughLabels(redis: Redis, prefix: string, key: { tenantId: string; device: string }, version: number, labelsJson: string): Promise<boolean> {
  const entry = `{"v":${version},"labels":${labelsJson}}`;
  return (await WRITE_IF_NEWER.run(redis, [cachedLabelsKey(prefix, key.tenantId, key.device)], [version, entry])) === 1;
}
