import type { Queryable } from '@strata/core';

// Notes leave the table as the refresher recomputes their minutes: it stays small while it keeps up.
const SQL = `SELECT count(*)::bigint AS notes FROM aggregate_dirty`;

/** (tenant, minute) notes the aggregate refresher has not recomputed yet (decision 0060). */
export async function countAggregateNotes(db: Queryable): Promise<number> {
  const result = await db.query<{ notes: string }>({ name: 'count-aggregate-notes', text: SQL });
  return Number(result.rows[0]?.notes ?? 0);
}
