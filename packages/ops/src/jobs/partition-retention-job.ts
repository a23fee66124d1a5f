import { expiredPartitions } from '../partitions/expired-partitions.ts';
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
 * so a failure leaves the partition attached. Never touches DEFAULT (see expiredPartitions).
 */
export const partitionRetentionJob: MaintenanceJob = {
  name: 'strata-partition-retention',
  cron: '17 3 * * *',
  runAtStart: false,
  async run({ pool, clock, retentionDays, logger }) {
    const outcome = await runLocked(pool, this.name, async (client) => {
      await setLocalLockTimeout(client, LOCK_TIMEOUT_MS);
      const partitions = await listEventPartitions(client);
      const expired = expiredPartitions(
        partitions.filter((partition) => !partition.isDefault).map((partition) => partition.name),
        clock.now(),
        retentionDays,
      );
      for (const name of expired) {
        await detachEventPartition(client, name);
        await dropDetachedPartition(client, name);
        logger.info({ partition: name, retentionDays }, 'dropped expired event partition');
      }
      return expired;
    });
    if (!outcome.locked) return { result: 'skipped' };
    return { result: 'completed', detail: { dropped: outcome.value, retentionDays } };
  },
};
