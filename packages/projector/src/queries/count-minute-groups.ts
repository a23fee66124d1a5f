import type { Queryable } from '@strata/core';

export interface MinuteGroups {
  /** Groups (label, value) holding rows of the minute in group_rollups_1m. */
  groups: number;
  /** Whether history still holds any row of the minute (any tenant's: retention drops whole days). */
  history: boolean;
}

/**
 * Per given minute of a tenant: how many groups hold rows of it in group_rollups_1m (by its
 * (tenant, bucket) index), and whether raw history still has the minute (the first row of its BRIN
 * range). The refresher compares the groups with those noted in the minute to choose between
 * recomputing the noted groups and the whole minute, and never recomputes a minute whole once raw
 * retention has dropped it: from no history every group of it would be deleted (decision 0115).
 */
export async function countMinuteGroups(db: Queryable, tenantId: string, minutes: string[]): Promise<Map<string, MinuteGroups>> {
  const result = await db.query<{ ms: number; groups: number; history: boolean }>({
    name: 'count-minute-groups',
    text: `SELECT (extract(epoch FROM m.bucket) * 1000)::float8 AS ms,
                  (SELECT count(DISTINCT (r.label, r.label_value)) FROM group_rollups_1m r WHERE r.tenant_id = $1 AND r.bucket = m.bucket)::int AS groups,
                  EXISTS (SELECT 1 FROM events e WHERE e.ts >= m.bucket AND e.ts < m.bucket + interval '1 minute') AS history
             FROM unnest($2::timestamptz[]) AS m(bucket)`,
    values: [tenantId, minutes],
  });
  return new Map(result.rows.map((row) => [new Date(row.ms).toISOString(), { groups: row.groups, history: row.history }]));
}
