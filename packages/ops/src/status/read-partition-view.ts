import type { Queryable } from '@strata/core';
import { expiredPartitions } from '../partitions/expired-partitions.ts';
import { missingPartitions } from '../partitions/missing-partitions.ts';
import { partitionDay } from '../partitions/partition-day.ts';
import { utcDay } from '../partitions/utc-day.ts';
import { listEventPartitions } from '../queries/list-event-partitions.ts';
import { PARTITION_LOOKAHEAD_DAYS } from './read-partition-coverage.ts';

/** The event partitions ahead of today and behind it, as the status page shows them. */
export interface PartitionView {
  /** Today, UTC (partitions are UTC days). */
  today: string;
  daily: number;
  /** Consecutive days after today that have their partition (the premake job keeps a week). */
  daysAhead: number;
  /** Days from today to today + PARTITION_LOOKAHEAD_DAYS without a partition: writes there land in DEFAULT. */
  missingAhead: string[];
  furthestDay: string | null;
  oldestDay: string | null;
  retentionDays: number;
  /** Partitions wholly older than the retention window: the retention job is behind (or failing). */
  pastRetention: string[];
  /** Rows in the DEFAULT partition (planner estimate; null before its first ANALYZE), waiting to be moved. */
  defaultRowsEstimate: number | null;
}

export async function readPartitionView(db: Queryable, nowMs: number, retentionDays: number): Promise<PartitionView> {
  const partitions = await listEventPartitions(db);
  const names = partitions.map((partition) => partition.name);
  const days = new Set(names.map(partitionDay).filter((day): day is string => day !== undefined));
  const sorted = [...days].sort();
  let daysAhead = 0;
  while (days.has(utcDay(nowMs, daysAhead + 1))) daysAhead++;
  const fallback = partitions.find((partition) => partition.isDefault);
  return {
    today: utcDay(nowMs),
    daily: days.size,
    daysAhead,
    missingAhead: missingPartitions(names, nowMs, PARTITION_LOOKAHEAD_DAYS).map((name) => partitionDay(name) ?? name),
    furthestDay: sorted.at(-1) ?? null,
    oldestDay: sorted[0] ?? null,
    retentionDays,
    pastRetention: expiredPartitions(names, nowMs, retentionDays).map((name) => partitionDay(name) ?? name),
    defaultRowsEstimate: fallback ? fallback.rowsEstimate : 0,
  };
}
