import { utcDay } from '../partitions/utc-day.ts';
import { AGGREGATE_TABLES, deleteExpiredAggregates } from '../queries/delete-expired-aggregates.ts';
import { deleteEndedLabelVersions } from '../queries/delete-ended-label-versions.ts';
import { foldExpiredGroupDays } from '../queries/fold-expired-group-days.ts';
import { listTenantIds } from '../queries/list-tenant-ids.ts';
import { setLocalLockTimeout } from '../queries/set-local-lock-timeout.ts';
import type { MaintenanceJob } from './maintenance-job.ts';
import { runLocked } from './run-locked.ts';

/** Deletes wait behind a refresher's row locks at most this long; the run then fails and retries. */
const LOCK_TIMEOUT_MS = 5000;

/**
 * Aggregates outlive raw history (SPEC "Groups"): rollups, tenant counts and group aggregates are kept
 * AGGREGATE_RETENTION_DAYS, then deleted, whole UTC days at a time. Group days are first folded into
 * group_totals_base, so a running total stays exact at every instant after the horizon. Label
 * versions that ended before the raw horizon go too. One transaction: a failed run changes nothing.
 */
export const aggregateRetentionJob: MaintenanceJob = {
  name: 'strata-aggregate-retention',
  cron: '37 3 * * *',
  runAtStart: false,
  async run({ pool, clock, retentionDays, aggregateRetentionDays, logger }) {
    const horizon = `${utcDay(clock.now(), -aggregateRetentionDays)} 00:00:00+00`;
    const rawHorizon = `${utcDay(clock.now(), -retentionDays)} 00:00:00+00`;
    const outcome = await runLocked(pool, this.name, async (client) => {
      await setLocalLockTimeout(client, LOCK_TIMEOUT_MS);
      const rows: Record<string, number> = Object.fromEntries(AGGREGATE_TABLES.map((table) => [table, 0]));
      let groupsFolded = 0;
      for (const tenant of await listTenantIds(client)) {
        groupsFolded += await foldExpiredGroupDays(client, tenant, horizon);
        for (const table of AGGREGATE_TABLES) rows[table]! += await deleteExpiredAggregates(client, table, tenant, horizon);
      }
      const labelVersions = await deleteEndedLabelVersions(client, rawHorizon);
      return { rows, groupsFolded, labelVersions };
    });
    if (!outcome.locked) return { result: 'skipped' };
    logger.info({ horizon, ...outcome.value }, 'expired aggregates deleted');
    return { result: 'completed', detail: { ...outcome.value, aggregateRetentionDays, horizon } };
  },
};
