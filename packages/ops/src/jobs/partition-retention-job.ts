import { expiredPartitions } from '../partitions/expired-partitions.ts';
import { partitionDay } from '../partitions/partition-day.ts';
import { utcDay } from '../partitions/utc-day.ts';
import { deleteExpiredDefaultRows } from '../queries/delete-expired-default-rows.ts';
import { listPendingDays } from '../queries/list-pending-days.ts';
import { detachEventPartition } from '../queries/detach-event-partition.ts';
import { dropDetachedPartition } from '../queries/drop-detached-partition.ts';
import { listEventPartitions } from '../queries/list-event-partitions.ts';
import { setLocalLockTimeout } from '../queries/set-local-lock-timeout.ts';
import type { MaintenanceJob } from './maintenance-job.ts';
import { runLocked } from './run-locked.ts';

/** A busy `events` makes the run fail and retry later rather than stall writers behind the DETACH. */
const LOCK_TIMEOUT_MS = 5000;

/**
 * Drops daily partitions older than RETENTION_DAYS: detach, then drop, in the lock's transaction,
 * so a failure leaves the partition attached. Never drops DEFAULT (see expiredPartitions), but
 * deletes its expired rows. A day with events still staged (accepted, not yet projected: a backlog
 * or a dead-lettered batch) is kept until they are projected, so no acknowledged event is projected
 * into a day that no longer exists; the next daily run drops it.
 */
export const partitionRetentionJob: MaintenanceJob = {
  name: 'strata-partition-retention',
  cron: '17 3 * * *',
  runAtStart: false,
  async run({ pool, clock, retentionDays, logger }) {
    const outcome = await runLocked(pool, this.name, async (client) => {
      await setLocalLockTimeout(client, LOCK_TIMEOUT_MS);
      const partitions = await listEventPartitions(client);
      const pending = await listPendingDays(client);
      const expired = expiredPartitions(
        partitions.filter((partition) => !partition.isDefault).map((partition) => partition.name),
        clock.now(),
        retentionDays,
      );
      const kept = expired.filter((name) => pending.includes(partitionDay(name) as string));
      const dropped = expired.filter((name) => !kept.includes(name));
      for (const name of dropped) {
        await detachEventPartition(client, name);
        await dropDetachedPartition(client, name);
        logger.info({ partition: name, retentionDays }, 'dropped expired event partition');
      }
      if (kept.length > 0) logger.warn({ partitions: kept }, 'expired partitions kept: events of their days are still staged');
      const defaultRows = await deleteExpiredDefaultRows(client, `${utcDay(clock.now(), -retentionDays)} 00:00:00+00`, pending);
      return { dropped, kept, defaultRows };
    });
    if (!outcome.locked) return { result: 'skipped' };
    return { result: 'completed', detail: { ...outcome.value, retentionDays } };
  },
};
