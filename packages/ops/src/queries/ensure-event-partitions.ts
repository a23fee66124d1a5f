import type { Queryable } from '@strata/core';

const SQL = 'SELECT ensure_event_partitions($1::date, $2::integer) AS created';

interface Row {
  created: number;
}

/** Creates the missing daily partitions for [firstDay, firstDay + days); returns how many it created. */
export async function ensureEventPartitions(db: Queryable, firstDay: string, days: number): Promise<number> {
  const result = await db.query<Row>({ name: 'ensure-event-partitions', text: SQL, values: [firstDay, days] });
  return Number(result.rows[0]?.created ?? 0);
}
