import { partitionName } from '../partitions/partition-day.ts';
import { utcDay } from '../partitions/utc-day.ts';
import { analyzeTable } from '../queries/analyze-table.ts';
import { listEventPartitions } from '../queries/list-event-partitions.ts';
import type { MaintenanceJob } from './maintenance-job.ts';
import { runLocked } from './run-locked.ts';

/**
 * ANALYZE of the partitions being filled (yesterday, for late events, and today). A day partition
 * starts empty, and until autovacuum's threshold is crossed the planner believes it still is,
 * which can pick sequential scans for device reads of today's data.
 */
export const partitionAnalyzeJob: MaintenanceJob = {
  name: 'strata-partition-analyze',
  cron: '23 * * * *',
  runAtStart: false,
  async run({ pool, clock }) {
    const outcome = await runLocked(pool, this.name, async (client) => {
      const present = new Set((await listEventPartitions(client)).map((partition) => partition.name));
      const names = [-1, 0].map((offset) => partitionName(utcDay(clock.now(), offset))).filter((name) => present.has(name));
      for (const name of names) await analyzeTable(client, name);
      return names;
    });
    if (!outcome.locked) return { result: 'skipped' };
    return { result: 'completed', detail: { analyzed: outcome.value } };
  },
};
