import type { Queryable } from '@strata/core';

// Notes are deleted as the refresher recomputes their minutes, so the table stays small when it keeps up.
const SQL = `
  SELECT count(*)::bigint AS notes,
         count(DISTINCT tenant_id)::bigint AS tenants,
         to_char(min(bucket) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS oldest_minute,
         (extract(epoch FROM clock_timestamp() - min(bucket)) * 1000)::float8 AS oldest_age_ms
    FROM aggregate_dirty`;

interface Row {
  notes: string;
  tenants: string;
  oldest_minute: string | null;
  oldest_age_ms: number | null;
}

export interface AggregationBacklog {
  /** Notes of (tenant, minute) whose rollups and counters the refresher has not recomputed yet. */
  notes: number;
  tenants: number;
  /** The oldest noted minute (its event time, not when it was noted); null when caught up. */
  oldestMinute: string | null;
  oldestAgeMs: number | null;
}

/** What the aggregation refresher still has to do (aggregate_dirty, decision 0060). */
export async function readAggregationBacklog(db: Queryable): Promise<AggregationBacklog> {
  const result = await db.query<Row>({ name: 'read-aggregation-backlog', text: SQL });
  const row = result.rows[0] as Row;
  return {
    notes: Number(row.notes),
    tenants: Number(row.tenants),
    oldestMinute: row.oldest_minute,
    oldestAgeMs: row.oldest_age_ms === null ? null : Math.round(row.oldest_age_ms),
  };
}
