import type { Queryable } from '@strata/core';

// Staged rows are accepted events not yet projected (including dead-lettered batches): their days
// still have history to receive.
const SQL = `
  SELECT DISTINCT to_char(date_bin('1 day', ts, TIMESTAMPTZ '1970-01-01 00:00:00+00') AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day
    FROM staging_events`;

interface Row {
  day: string;
}

/** UTC days (YYYY-MM-DD) with events still waiting in staging. */
export async function listPendingDays(db: Queryable): Promise<string[]> {
  const result = await db.query<Row>({ name: 'list-pending-days', text: SQL });
  return result.rows.map((row) => row.day);
}
