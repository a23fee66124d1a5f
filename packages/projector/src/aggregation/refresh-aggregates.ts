import { withTransaction, type Pool } from '@strata/core';
import { claimDirtyMinutes } from '../queries/claim-dirty-minutes.ts';
import { lockTenantAggregates } from '../queries/lock-tenant-aggregates.ts';
import { replaceCoarserRollups } from '../queries/replace-coarser-rollups.ts';
import { replaceHourCounts } from '../queries/replace-hour-counts.ts';
import { replaceMinuteAggregates } from '../queries/replace-minute-aggregates.ts';
import { selectDirtyTenants } from '../queries/select-dirty-tenants.ts';

export interface RefreshAggregatesOptions {
  /** Epoch ms. Minutes that ended after this instant are left noted: reads compute them live (decision 0060). */
  now: number;
  /** Tenants per round, and minutes per tenant per transaction. */
  maxTenants?: number;
  maxMinutes?: number;
}

export interface RefreshOutcome {
  /** Minutes recomputed and committed. */
  minutes: number;
  /** Tenants left for another process that was refreshing them. */
  skippedTenants: number;
}

/**
 * One round of the aggregate refresher: for each tenant with noted minutes that have ended, one
 * transaction that claims (deletes) their notes, recomputes those minutes from history, the hours
 * and days holding them from the level below, and the tenant's counts per minute and hour, each
 * written over what was there. A crash or error anywhere rolls the whole transaction back, notes
 * included, so the minutes are recomputed next round; a second run of a committed refresh changes
 * nothing. Only closed minutes are refreshed: a device reporting every second would otherwise have
 * its current minute recomputed sixty times, and reads answer noted minutes from history anyway.
 */
export async function refreshAggregates(pool: Pool, options: RefreshAggregatesOptions): Promise<RefreshOutcome> {
  const closedBy = new Date(options.now).toISOString();
  const maxMinutes = options.maxMinutes ?? 240;
  const tenants = await selectDirtyTenants(pool, { closedBy, limit: options.maxTenants ?? 32 });
  const outcome: RefreshOutcome = { minutes: 0, skippedTenants: 0 };
  for (const tenantId of tenants) {
    const refreshed = await withTransaction(pool, async (client) => {
      if (!(await lockTenantAggregates(client, tenantId))) return undefined;
      const minutes = await claimDirtyMinutes(client, { tenantId, closedBy, limit: maxMinutes });
      if (minutes.length === 0) return 0;
      const hours = await replaceMinuteAggregates(client, { tenantId, minutes });
      const days = await replaceCoarserRollups(client, { tenantId, level: 'hour', touched: hours });
      await replaceCoarserRollups(client, { tenantId, level: 'day', touched: days });
      await replaceHourCounts(client, tenantId, minutes);
      return minutes.length;
    });
    if (refreshed === undefined) outcome.skippedTenants++;
    else outcome.minutes += refreshed;
  }
  return outcome;
}
