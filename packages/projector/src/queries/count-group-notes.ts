import type { Queryable } from '@strata/core';

/**
 * Group notes waiting (strata_group_notes), counted up to a million so that a storm of retroactive
 * relabels costs the gauge a bounded scan once per refresh round. Without labels: an empty index.
 */
export async function countGroupNotes(db: Queryable): Promise<number> {
  const result = await db.query<{ n: number }>({
    name: 'count-group-notes',
    text: `SELECT count(*)::int AS n FROM (SELECT 1 FROM group_dirty LIMIT 1000000) g`,
  });
  return result.rows[0]?.n ?? 0;
}
