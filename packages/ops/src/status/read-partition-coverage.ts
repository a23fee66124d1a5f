import type { Queryable } from '@strata/core';
import { missingPartitions } from '../partitions/missing-partitions.ts';
import { listEventPartitions } from '../queries/list-event-partitions.ts';

/** Days ahead (after today) whose partitions must exist; the premake job makes a week. */
export const PARTITION_LOOKAHEAD_DAYS = 7;

export interface PartitionCoverage {
  /** Daily partitions attached to events. */
  daily: number;
  /** Default partitions attached (0 or 1): rows whose day had no partition. */
  default: number;
  /** Daily partitions missing for today and the next PARTITION_LOOKAHEAD_DAYS days (UTC). */
  missing: string[];
}

/** The partitions of events as the health report and the metrics both state them. */
export async function readPartitionCoverage(db: Queryable, nowMs: number): Promise<PartitionCoverage> {
  const partitions = await listEventPartitions(db);
  const daily = partitions.filter((partition) => !partition.isDefault).length;
  return {
    daily,
    default: partitions.length - daily,
    missing: missingPartitions(partitions.map((partition) => partition.name), nowMs, PARTITION_LOOKAHEAD_DAYS),
  };
}
