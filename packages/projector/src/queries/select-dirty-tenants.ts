import type { Queryable } from '@strata/core';

export interface SelectDirtyTenantsQuery {
  /** Only minutes that ended at or before this instant (ISO-8601) are due. */
  closedBy: string;
  limit: number;
}

/**
 * Tenants with noted minutes that are due for a refresh, the longest-waiting first. The tenants are
 * walked through the (tenant, bucket) index one at a time (a loose index scan) and each one's oldest
 * note is its first index entry, so the cost follows the number of tenants, not of notes: a month of
 * history landing at once leaves tens of thousands of notes, and grouping them all took 6–12 ms of
 * every round of the catch-up that removes them (decision 0064).
 */
export async function selectDirtyTenants(db: Queryable, query: SelectDirtyTenantsQuery): Promise<string[]> {
  const result = await db.query<{ tenant_id: string }>({
    name: 'select-dirty-tenants',
    text: `WITH RECURSIVE tenants AS (
             (SELECT tenant_id FROM aggregate_dirty ORDER BY tenant_id LIMIT 1)
             UNION ALL
             SELECT (SELECT d.tenant_id FROM aggregate_dirty d WHERE d.tenant_id > t.tenant_id ORDER BY d.tenant_id LIMIT 1)
               FROM tenants t WHERE t.tenant_id IS NOT NULL
           )
           SELECT tenant_id FROM (
             SELECT t.tenant_id, (SELECT min(d.bucket) FROM aggregate_dirty d WHERE d.tenant_id = t.tenant_id) AS oldest
               FROM tenants t WHERE t.tenant_id IS NOT NULL
           ) o
            WHERE oldest <= $1::timestamptz - interval '1 minute'
            ORDER BY oldest LIMIT $2`,
    values: [query.closedBy, query.limit],
  });
  return result.rows.map((row) => row.tenant_id);
}
