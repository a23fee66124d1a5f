import type { Queryable } from '@strata/core';

export interface SelectGroupNotedTenantsQuery {
  /** Only minutes that ended at or before this instant (ISO-8601) are due. */
  closedBy: string;
  limit: number;
}

/**
 * Tenants with group notes (label changes that moved past events between groups) due for a refresh,
 * the longest-waiting first: a loose index scan of group_dirty's (tenant, bucket) index, one probe per
 * tenant, as selectDirtyTenants does for tenant notes. Without labels the table is empty: one probe.
 */
export async function selectGroupNotedTenants(db: Queryable, query: SelectGroupNotedTenantsQuery): Promise<string[]> {
  const result = await db.query<{ tenant_id: string }>({
    name: 'select-group-noted-tenants',
    text: `WITH RECURSIVE tenants AS (
             (SELECT tenant_id FROM group_dirty ORDER BY tenant_id LIMIT 1)
             UNION ALL
             SELECT (SELECT d.tenant_id FROM group_dirty d WHERE d.tenant_id > t.tenant_id ORDER BY d.tenant_id LIMIT 1)
               FROM tenants t WHERE t.tenant_id IS NOT NULL
           )
           SELECT tenant_id FROM (
             SELECT t.tenant_id, (SELECT min(d.bucket) FROM group_dirty d WHERE d.tenant_id = t.tenant_id) AS oldest
               FROM tenants t WHERE t.tenant_id IS NOT NULL
           ) o
            WHERE oldest <= $1::timestamptz - interval '1 minute'
            ORDER BY oldest LIMIT $2`,
    values: [query.closedBy, query.limit],
  });
  return result.rows.map((row) => row.tenant_id);
}
