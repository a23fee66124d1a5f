import { partitionName } from './partition-day.ts';
import { utcDay } from './utc-day.ts';

/** Names of the daily partitions for today and the following `aheadDays` days that do not exist. */
export function missingPartitions(present: string[], nowMs: number, aheadDays: number): string[] {
  const have = new Set(present);
  const missing: string[] = [];
  for (let offset = 0; offset <= aheadDays; offset++) {
    const name = partitionName(utcDay(nowMs, offset));
    if (!have.has(name)) missing.push(name);
  }
  return missing;
}
