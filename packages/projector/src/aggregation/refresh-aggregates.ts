import { withTransaction, type Pool } from '@strata/core';
import { claimDirtyMinutes } from '../queries/claim-dirty-minutes.ts';
import { lockTenantAggregates } from '../queries/lock-tenant-aggregates.ts';
import { replaceCoarserRollups } from '../queries/replace-coarser-rollups.ts';
import { replaceHourCounts } from '../queries/replace-hour-counts.ts';
import { replaceMinuteAggregates } from '../queries/replace-minute-aggregates.ts';
import { selectDirtyTenants } from '../queries/select-dirty-tenants.ts';
import { ClaimSizes } from './claim-sizes.ts';

export interface RefreshAggregatesOptions {
  /** Epoch ms. Minutes that ended after this instant are left noted: reads compute them live (decision 0060). */
  now: number;
  /** Tenants per round. */
  maxTenants?: number;
  /** Minutes per tenant per transaction, fixed; without it `claimSizes` decides. */
  maxMinutes?: number;
  /** Per-tenant claim sizes learned across rounds (the refresh loop keeps one); a fresh one otherwise. */
  claimSizes?: ClaimSizes;
  /** Checked before each tenant's transaction: the round ends early when it returns true (shutdown). */
  stopping?: () => boolean;
}

export interface RefreshOutcome {
  /** Minutes recomputed and committed. */
  minutes: number;
  /** Tenants left for another process that was refreshing them. */
  skippedTenants: number;
  /** Tenants whose claim was full: more of their minutes are probably due, so another round can follow at once. */
  backloggedTenants: number;
}

/**
 * One round of the aggregate refresher: for each tenant with noted minutes that have ended, one
 * transaction that claims (deletes) their notes, recomputes those minutes from history, the hours
 * and days holding them from the level below, and the tenant's counts per minute and hour, each
 * written over what was there. A crash or error anywhere rolls the whole transaction back, notes
 * included, so the minutes are recomputed next round; a second run of a committed refresh changes
 * nothing. Only closed minutes are refreshed: a device reporting every second would otherwise have
 * its current minute recomputed sixty times, and reads answer noted minutes from history anyway.
 * Every due tenant (up to `maxTenants`, oldest note first) gets one transaction per round, each
 * sized to a bounded time, so one tenant's backlog delays another's fresh minutes by about one
 * transaction, not by the backlog (decision 0064).
 */
export async function refreshAggregates(pool: Pool, options: RefreshAggregatesOptions): Promise<RefreshOutcome> {
  const closedBy = new Date(options.now).toISOString();
  const sizes = options.claimSizes ?? new ClaimSizes();
  const tenants = await selectDirtyTenants(pool, { closedBy, limit: options.maxTenants ?? 32 });
  const outcome: RefreshOutcome = { minutes: 0, skippedTenants: 0, backloggedTenants: 0 };
  for (const tenantId of tenants) {
    if (options.stopping?.()) break;
    const size = options.maxMinutes ?? sizes.minutesFor(tenantId);
    const started = performance.now();
    const refreshed = await withTransaction(pool, async (client) => {
      if (!(await lockTenantAggregates(client, tenantId))) return undefined;
      const minutes = await claimDirtyMinutes(client, { tenantId, closedBy, limit: size });
      if (minutes.length === 0) return 0;
      const hours = await replaceMinuteAggregates(client, { tenantId, minutes });
      const days = await replaceCoarserRollups(client, { tenantId, level: 'hour', touched: hours });
      await replaceCoarserRollups(client, { tenantId, level: 'day', touched: days });
      await replaceHourCounts(client, tenantId, minutes);
      return minutes.length;
    });
    if (refreshed === undefined) {
      outcome.skippedTenants++;
      continue;
    }
    sizes.record(tenantId, { claimed: refreshed, size, elapsedMs: performance.now() - started });
    outcome.minutes += refreshed;
    if (refreshed >= size) outcome.backloggedTenants++;
  }
  return outcome;
}
