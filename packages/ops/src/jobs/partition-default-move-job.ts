import { expiredPartitions } from '../partitions/expired-partitions.ts';
import { furthestPartitionDay } from '../partitions/furthest-partition-day.ts';
import { partitionName } from '../partitions/partition-day.ts';
import { analyzeTable } from '../queries/analyze-table.ts';
import { attachDayPartition } from '../queries/attach-day-partition.ts';
import { createStandaloneDayTable } from '../queries/create-standalone-day-table.ts';
import { listDefaultDays } from '../queries/list-default-days.ts';
import { listEventPartitions } from '../queries/list-event-partitions.ts';
import { lockEventsExclusively } from '../queries/lock-events-exclusively.ts';
import { moveDefaultRows } from '../queries/move-default-rows.ts';
import { setLocalLockTimeout } from '../queries/set-local-lock-timeout.ts';
import { withSavepoint } from '../queries/with-savepoint.ts';
import type { MaintenanceJob } from './maintenance-job.ts';
import { PREMAKE_DAYS, PREMAKE_FIRST_DAY_OFFSET } from './partition-premake-job.ts';
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
 * Days older than retention are left to the retention job, which deletes them from DEFAULT. Days
 * past furthestPartitionDay stay in DEFAULT (no partition per far-future day). Each day moves in a
 * savepoint: a day that cannot be moved (a name taken by another table, a bound PostgreSQL refuses)
 * is skipped and reported, and the other days still move (issue 9: one 9999-12-31 row used to fail
 * every run and roll back every other day's move).
 */
export const partitionDefaultMoveJob: MaintenanceJob = {
  name: 'strata-partition-default-move',
  cron: '5-59/10 * * * *',
  runAtStart: true,
  async run({ pool, clock, retentionDays, maxFutureSkewMs, logger }) {
    const outcome = await runLocked(pool, this.name, async (client) => {
      await setLocalLockTimeout(client, LOCK_TIMEOUT_MS);
      const present = new Set((await listEventPartitions(client)).map((partition) => partition.name));
      const furthest = furthestPartitionDay(clock.now(), maxFutureSkewMs, PREMAKE_FIRST_DAY_OFFSET + PREMAKE_DAYS - 1);
      const days = (await listDefaultDays(client, DAYS_PER_RUN * 4)).filter(
        (day) => expiredPartitions([partitionName(day)], clock.now(), retentionDays).length === 0 && !present.has(partitionName(day)),
      );
      const skipped: Record<string, string> = {};
      for (const day of days.filter((candidate) => candidate > furthest)) skipped[day] = `beyond ${furthest}, the furthest day a partition is made for`;
      const movable = days.filter((candidate) => candidate <= furthest).slice(0, DAYS_PER_RUN);
      const moved: Record<string, number> = {};
      if (movable.length > 0) await lockEventsExclusively(client);
      for (const day of movable) {
        try {
          const name = await withSavepoint(client, 'move_day', async () => {
            const table = await createStandaloneDayTable(client, day);
            moved[table] = await moveDefaultRows(client, table, day);
            await attachDayPartition(client, table);
            return table;
          });
          await analyzeTable(client, name);
          logger.info({ partition: name, rows: moved[name] }, 'moved rows out of the DEFAULT partition');
        } catch (error) {
          delete moved[partitionName(day)];
          skipped[day] = error instanceof Error ? error.message : String(error);
          logger.warn({ day, err: error }, 'could not move a day out of the DEFAULT partition; skipped');
        }
      }
      return { moved, skipped };
    });
    if (!outcome.locked) return { result: 'skipped' };
    return { result: 'completed', detail: outcome.value };
  },
};
