import pg from 'pg';
import type { Queryable } from '@strata/core';
import { nextUtcDay } from '../partitions/next-utc-day.ts';
import { isDailyPartitionName } from '../partitions/partition-day.ts';

/** Moves one UTC day's rows from DEFAULT into the table `name`, in one statement; returns how many. */
export async function moveDefaultRows(db: Queryable, name: string, day: string): Promise<number> {
  if (!isDailyPartitionName(name)) throw new Error(`not a daily event partition: ${name}`);
  const result = await db.query(
    `WITH moved AS (
       DELETE FROM events_default WHERE ts >= $1::timestamptz AND ts < $2::timestamptz RETURNING *
     )
     INSERT INTO ${pg.escapeIdentifier(name)} SELECT * FROM moved`,
    [`${day} 00:00:00+00`, `${nextUtcDay(day)} 00:00:00+00`],
  );
  return result.rowCount ?? 0;
}
