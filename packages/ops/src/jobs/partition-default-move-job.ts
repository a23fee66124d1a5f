import { expiredPartitions } from '../partitions/expired-partitions.ts';
import { partitionName } from '../partitions/partition-day.ts';
import { analyzeTable } from '../queries/analyze-table.ts';
import { attachDayPartition } from '../queries/attach-day-partition.ts';
import { createStandaloneDayTable } from '../queries/create-standalone-day-table.ts';
import { listDefaultDays } from '../queries/list-default-days.ts';
import { listEventPartitions } from '../queries/list-event-partitions.ts';
import { lockEventsExclusively } from '../queries/lock-events-exclusively.ts';
import { moveDefaultRows } from '../queries/move-default-rows.ts';
import { setLocalLockTimeout } from '../queries/set-local-lock-timeout.ts';
import type { MaintenanceJob } from './maintenance-job.ts';
import { runLocked } from './run-locked.ts';

/** Days moved per run: the run holds an exclusive lock on `events` until it commits, so runs stay short. */
const DAYS_PER_RUN = 7;
/** Readers and writers are not stalled behind a waiting move for longer than this; the job retries next tick. */
const LOCK_TIMEOUT_MS = 5000;

/**
 * Moves rows out of the DEFAULT partition into proper daily partitions. A day cannot be created as a
 * partition while DEFAULT holds rows of it, and DETACH of DEFAULT would hide every row in it, so for
 * each day, in one transaction: create a standalone table shaped like `events`, move the day's rows
 * into it (DELETE ... RETURNING into INSERT), attach it, all under an exclusive lock on `events`.
 * Readers see the rows in DEFAULT before the commit and in the new partition after it, never
 * neither: they wait for the move (milliseconds for a small DEFAULT) instead.
 * Days older than retention are left to the retention job, which deletes them from DEFAULT.
 */
export const partitionDefaultMoveJob: MaintenanceJob = {
  name: 'strata-partition-default-move',
  cron: '5-59/10 * * * *',
  runAtStart: true,
  async run({ pool, clock, retentionDays, logger }) {
    const outcome = await runLocked(pool, this.name, async (client) => {
      await setLocalLockTimeout(client, LOCK_TIMEOUT_MS);
      const present = new Set((await listEventPartitions(client)).map((partition) => partition.name));
      const days = (await listDefaultDays(client, DAYS_PER_RUN * 4)).filter(
        (day) => expiredPartitions([partitionName(day)], clock.now(), retentionDays).length === 0 && !present.has(partitionName(day)),
      );
      const moved: Record<string, number> = {};
      if (days.length > 0) await lockEventsExclusively(client);
      for (const day of days.slice(0, DAYS_PER_RUN)) {
        const name = await createStandaloneDayTable(client, day);
        moved[name] = await moveDefaultRows(client, name, day);
        await attachDayPartition(client, name);
        await analyzeTable(client, name);
        logger.info({ partition: name, rows: moved[name] }, 'moved rows out of the DEFAULT partition');
      }
      return moved;
    });
    if (!outcome.locked) return { result: 'skipped' };
    return { result: 'completed', detail: { moved: outcome.value } };
  },
};
