import type { Queryable } from '@strata/core';

// Rows in DEFAULT older than the window are what the retention would have dropped with their day's
// partition; days with pending work are kept like their partitions are.
const SQL = `
  DELETE FROM events_default
   WHERE ts < $1::timestamptz
     AND NOT (to_char(date_bin('1 day', ts, TIMESTAMPTZ '1970-01-01 00:00:00+00') AT TIME ZONE 'UTC', 'YYYY-MM-DD') = ANY($2::text[]))`;

/** Deletes DEFAULT rows before `before` except on the `keepDays` (YYYY-MM-DD); returns how many. */
export async function deleteExpiredDefaultRows(db: Queryable, before: string, keepDays: string[]): Promise<number> {
  const result = await db.query({ name: 'delete-expired-default-rows', text: SQL, values: [before, keepDays] });
  return result.rowCount ?? 0;
}
