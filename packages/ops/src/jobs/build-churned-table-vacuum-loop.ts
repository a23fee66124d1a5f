import { IntervalLoop, type Config } from '@strata/core';
import type { OpsDeps } from '../deps.ts';
import { partitionName } from '../partitions/partition-day.ts';
import { utcDay } from '../partitions/utc-day.ts';
import { summarizeHistoryRanges, type RangeCursors } from '../queries/summarize-history-ranges.ts';
import { vacuumChurnedTables } from '../queries/vacuum-churned-tables.ts';

export interface ChurnedTableVacuumLoopDeps extends Pick<OpsDeps, 'logger' | 'pool' | 'metrics' | 'clock'> {
  config: Pick<Config, 'churnedTableVacuumIntervalMs'>;
}

/**
 * Vacuums the churned tables every CHURNED_TABLE_VACUUM_INTERVAL_MS (decision 0089), in every ops
 * instance (VACUUM … SKIP_LOCKED leaves a table another one is vacuuming). Not a pg-boss schedule:
 * cron ticks are a minute apart, and a minute of a fleet's updates is hundreds of thousands of dead
 * versions of `device_state` rows, which every probe of the table then steps over. Each round then
 * summarizes the new page ranges of the history partitions being written (yesterday's for late events,
 * today's, tomorrow's for clocks ahead, DEFAULT), which autovacuum no longer does (decision 0106).
 * Undefined when the interval is 0: the tables are left to autovacuum, and the ranges to its vacuums of
 * the partitions.
 */
export function buildChurnedTableVacuumLoop(deps: ChurnedTableVacuumLoopDeps): IntervalLoop | undefined {
  const { config, metrics, logger, clock } = deps;
  if (config.churnedTableVacuumIntervalMs === 0) return undefined;
  // Where each partition's summarizing stopped: the next round starts there (a restart starts over,
  // through ranges already summarized, which cost a look at the range map each).
  const cursors: RangeCursors = new Map();
  return new IntervalLoop({
    name: 'churned table vacuum',
    intervalMs: config.churnedTableVacuumIntervalMs,
    logger,
    run: async () => {
      const started = clock.now();
      await vacuumChurnedTables(deps.pool);
      const tables = [...[-1, 0, 1].map((offset) => partitionName(utcDay(clock.now(), offset))), 'events_default'];
      metrics.historyRangesSummarized.inc(await summarizeHistoryRanges(deps.pool, tables, cursors));
      metrics.churnedTableVacuums.inc({ result: 'completed' });
      metrics.churnedTableVacuumSeconds.set((clock.now() - started) / 1000);
    },
    onError: () => metrics.churnedTableVacuums.inc({ result: 'failed' }),
  });
}
