import type { Queryable } from '@strata/core';

/**
 * How many groups (label, value) hold rows in each of a tenant's given minutes of group_rollups_1m,
 * by its (tenant, bucket) index: the refresher compares it with the groups noted in a minute to choose
 * between recomputing the noted groups and the whole minute (decision 0115). Minutes without rows are
 * absent from the result.
 */
export async function countMinuteGroups(db: Queryable, tenantId: string, minutes: string[]): Promise<Map<string, number>> {
  const result = await db.query<{ ms: number; groups: number }>({
    name: 'count-minute-groups',
    text: `SELECT (extract(epoch FROM bucket) * 1000)::float8 AS ms, count(DISTINCT (label, label_value))::int AS groups
             FROM group_rollups_1m WHERE tenant_id = $1 AND bucket = ANY ($2::timestamptz[]) GROUP BY bucket`,
    values: [tenantId, minutes],
  });
  return new Map(result.rows.map((row) => [new Date(row.ms).toISOString(), row.groups]));
}
