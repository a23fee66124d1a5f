import type { Queryable } from '@strata/core';

/**
 * The aggregate tables aggregate retention empties, each deleted per tenant so the (tenant_id,
 * bucket) or (bucket) index bounds the scan. Names come from this list only, never from input.
 */
export const AGGREGATE_TABLES = [
  'rollups_1m',
  'rollups_1h',
  'rollups_1d',
  'event_counts_1m',
  'event_counts_1h',
  'group_rollups_1m',
  'group_rollups_1h',
  'group_rollups_1d',
] as const;

export type AggregateTable = (typeof AGGREGATE_TABLES)[number];

/** Deletes `tenant`'s rows of `table` in buckets before `horizon`; returns how many. */
export async function deleteExpiredAggregates(db: Queryable, table: AggregateTable, tenant: string, horizon: string): Promise<number> {
  const result = await db.query({
    name: `delete-expired-${table}`,
    text: `DELETE FROM ${table} WHERE tenant_id = $1 AND bucket < $2::timestamptz`,
    values: [tenant, horizon],
  });
  return result.rowCount ?? 0;
}
