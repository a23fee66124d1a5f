import type { Queryable } from '@strata/core';

export interface SelectDirtyTenantsQuery {
  /** Only minutes that ended at or before this instant (ISO-8601) are due. */
  closedBy: string;
  limit: number;
}

/** Tenants with noted minutes that are due for a refresh, the longest-waiting first. */
export async function selectDirtyTenants(db: Queryable, query: SelectDirtyTenantsQuery): Promise<string[]> {
  const result = await db.query<{ tenant_id: string }>({
    name: 'select-dirty-tenants',
    text: `SELECT tenant_id FROM aggregate_dirty
            WHERE bucket <= $1::timestamptz - interval '1 minute'
            GROUP BY tenant_id ORDER BY min(bucket) LIMIT $2`,
    values: [query.closedBy, query.limit],
  });
  return result.rows.map((row) => row.tenant_id);
}
