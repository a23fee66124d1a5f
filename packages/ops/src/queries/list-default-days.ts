import type { Queryable } from '@strata/core';

// DEFAULT is meant to stay small (the move job empties it), so a scan of it is cheap.
const SQL = `
  SELECT DISTINCT to_char(date_bin('1 day', ts, TIMESTAMPTZ '1970-01-01 00:00:00+00') AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day
    FROM events_default
   ORDER BY 1
   LIMIT $1::int`;

interface Row {
  day: string;
}

/** UTC days (YYYY-MM-DD, oldest first) that have rows in the DEFAULT partition. */
export async function listDefaultDays(db: Queryable, limit: number): Promise<string[]> {
  const result = await db.query<Row>({ name: 'list-default-days', text: SQL, values: [limit] });
  return result.rows.map((row) => row.day);
}
