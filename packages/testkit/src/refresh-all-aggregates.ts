import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool } from '@strata/core';
import { refreshAggregates } from '@strata/projector/refresh-aggregates';

/**
 * Rounds of the projector's aggregate refresher, as its loop runs them, until every minute that has
 * ended by `now` is materialized. A tenant another refresher holds (a projector process running
 * beside the test) is waited for, not skipped.
 */
export async function refreshAllAggregates(pool: Pool, now = Date.now(), timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const round = await refreshAggregates(pool, { now });
    if (round.minutes === 0 && round.skippedTenants === 0) return;
    if (Date.now() > deadline) throw new Error(`aggregates not refreshed within ${timeoutMs} ms`);
    if (round.minutes === 0) await sleep(20);
  }
}
