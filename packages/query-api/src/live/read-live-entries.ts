import { LIVE_ENTRY_FIELD, redisKeys, type Redis } from '@strata/core';
import { updateFromEntry, type LiveUpdate } from './live-update.ts';

/** Replay is paged so one reconnect never asks Redis for the whole capped stream at once. */
const PAGE = 500;

/** The tenant's live updates after `afterId` (exclusive), oldest first, one page. */
export async function readLiveEntries(redis: Redis, prefix: string, tenantId: string, afterId: string): Promise<LiveUpdate[]> {
  const entries = await redis.xrange(redisKeys.liveStream(prefix, tenantId), `(${afterId}`, '+', 'COUNT', PAGE);
  const updates: LiveUpdate[] = [];
  for (const [id, fields] of entries) {
    const at = fields.indexOf(LIVE_ENTRY_FIELD);
    const stored = at < 0 ? undefined : fields[at + 1];
    const update = stored === undefined ? undefined : updateFromEntry(id, stored);
    if (update) updates.push(update);
  }
  return updates;
}
