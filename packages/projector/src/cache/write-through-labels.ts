import type { Redis } from '@strata/core';
import type { CurrentLabels } from '../queries/select-current-labels.ts';

/*
 * A device's cached labels (the issue 13 contract: `{prefix}:labels:{tenant}:{device}` = `{"v", "labels"}`,
 * as command-api writes after a PUT/PATCH and query-api reads beside the cached state), written by the
 * refresher after a fold of events' labels committed. Newest version wins in one atomic step per call:
 * command-api and refreshers write after their own commits, in either order, and the entry must end on
 * the newest; an equal version is overwritten (same versions, same labels), an entry not of the shape
 * is replaced. No TTL, as command-api's (a missing entry reads as "no labels"). KEYS[i] pairs with
 * ARGV[2i-1] (version) and ARGV[2i] (entry).
 */
const SCRIPT = `
local written = 0
for i, key in ipairs(KEYS) do
  local version = tonumber(ARGV[2 * i - 1])
  local current = redis.call('GET', key)
  local newer = false
  if current then
    local ok, decoded = pcall(cjson.decode, current)
    newer = ok and type(decoded) == 'table' and tonumber(decoded.v) ~= nil and tonumber(decoded.v) > version
  end
  if not newer then
    redis.call('SET', key, ARGV[2 * i])
    written = written + 1
  end
end
return written
`;

export function cachedLabelsKey(prefix: string, tenantId: string, device: string): string {
  return `${prefix}:labels:${tenantId}:${device}`;
}

/** Devices per call: the keys and arguments are spread into one call, which must stay far from the stack's limit. */
const CHUNK = 500;

/** Writes each device's labels unless the cache holds a newer version; returns how many were written. */
export async function writeThroughLabels(redis: Redis, prefix: string, tenantId: string, labels: CurrentLabels[]): Promise<number> {
  let written = 0;
  for (let i = 0; i < labels.length; i += CHUNK) {
    const chunk = labels.slice(i, i + CHUNK);
    const keys = chunk.map((entry) => cachedLabelsKey(prefix, tenantId, entry.device));
    const args = chunk.flatMap((entry) => [String(entry.version), `{"v":${entry.version},"labels":${entry.labelsJson}}`]);
    written += Number(await redis.eval(SCRIPT, keys.length, ...keys, ...args));
  }
  return written;
}
