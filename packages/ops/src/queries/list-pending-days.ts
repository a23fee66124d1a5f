import type { Queryable } from '@strata/core';

// Staged rows are accepted events not yet projected (including dead-lettered batches): their days
// still have history to receive. Noted minutes (aggregate_dirty, group_dirty) are aggregates still to
// be recomputed from their day's history: dropping that day first would replace them with nothing
// (decision 0074, "Retention").
const SQL = `
  SELECT to_char(date_bin('1 day', ts, TIMESTAMPTZ '1970-01-01 00:00:00+00') AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day
    FROM (SELECT ts FROM staging_events
          UNION ALL SELECT bucket FROM aggregate_dirty
          UNION ALL SELECT bucket FROM group_dirty) AS pending (ts)
   GROUP BY 1`;

interface Row {
  day: string;
}

/** UTC days (YYYY-MM-DD) with events still waiting in staging or aggregates still to recompute. */
export async function listPendingDays(db: Queryable): Promise<string[]> {
  const result = await db.query<Row>({ name: 'list-pending-days', text: SQL });
  return result.rows.map((row) => row.day);
}
