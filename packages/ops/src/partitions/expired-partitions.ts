import { partitionDay } from './partition-day.ts';
import { utcDay } from './utc-day.ts';

/**
 * Daily partitions whose whole day lies before the retention window [today - retentionDays, …).
 * Only names of the daily pattern qualify, so the DEFAULT partition (which may hold late rows
 * still waiting to be moved) and any hand-made table are never selected.
 */
export function expiredPartitions(names: string[], nowMs: number, retentionDays: number): string[] {
  const oldestKept = utcDay(nowMs, -retentionDays);
  return names.filter((name) => {
    const day = partitionDay(name);
    // YYYY-MM-DD strings compare in calendar order.
    return day !== undefined && day < oldestKept;
  });
}
