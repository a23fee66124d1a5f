import { utcDay } from '../partitions/utc-day.ts';
import { ensureEventPartitions } from '../queries/ensure-event-partitions.ts';
import type { MaintenanceJob } from './maintenance-job.ts';
import { runLocked } from './run-locked.ts';

/** Yesterday (late events) through a week ahead: a missed run or two never leaves a day uncovered. */
export const PREMAKE_FIRST_DAY_OFFSET = -1;
export const PREMAKE_DAYS = 9;

/** Creates the coming days' event partitions ahead of need, so new events never land in DEFAULT. */
export const partitionPremakeJob: MaintenanceJob = {
  name: 'strata-partition-premake',
  cron: '*/10 * * * *',
  runAtStart: true,
  async run({ pool, clock }) {
    const firstDay = utcDay(clock.now(), PREMAKE_FIRST_DAY_OFFSET);
    const outcome = await runLocked(pool, this.name, (client) => ensureEventPartitions(client, firstDay, PREMAKE_DAYS));
    if (!outcome.locked) return { result: 'skipped' };
    return { result: 'completed', detail: { firstDay, days: PREMAKE_DAYS, created: outcome.value } };
  },
};
