import type { Queryable } from '@strata/core';

// Tenant-wide event counts per bucket and type from the counter level that divides the interval:
// event_counts_1m for 1m/5m/15m, event_counts_1h for 1h/1d. Shard rows (migration 0010) are summed
// here. Buckets are aligned to the Unix epoch in UTC. A NULL type switches the filter off.
const statement = (table: string): string => `
  SELECT date_bin($2::interval, bucket, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS bucket, type, sum(count)::float8 AS count
    FROM ${table}
   WHERE tenant_id = $1 AND bucket >= $3::timestamptz AND bucket < $4::timestamptz
     AND ($5::text IS NULL OR type = $5::text)
   GROUP BY 1, 2
   ORDER BY 1, 2`;

/** Statement per interval, from a fixed list: table names never come from the request. */
const STATEMENTS: Record<string, { name: string; text: string }> = {
  '1 minute': { name: 'query-counts-1m', text: statement('event_counts_1m') },
  '5 minutes': { name: 'query-counts-5m', text: statement('event_counts_1m') },
  '15 minutes': { name: 'query-counts-15m', text: statement('event_counts_1m') },
  '1 hour': { name: 'query-counts-1h', text: statement('event_counts_1h') },
  '1 day': { name: 'query-counts-1d', text: statement('event_counts_1h') },
};

export interface EventCountRow {
  bucket: string;
  type: string;
  count: number;
}

export interface SelectEventCountsQuery {
  tenantId: string;
  /** A PostgreSQL interval, e.g. '5 minutes'. */
  interval: string;
  /** Bucket-aligned bounds, ISO-8601; from inclusive, to exclusive. */
  from: string;
  to: string;
  type: string | undefined;
}

export async function selectEventCounts(db: Queryable, query: SelectEventCountsQuery): Promise<EventCountRow[]> {
  const statement = STATEMENTS[query.interval];
  if (!statement) throw new Error(`no counter level for interval ${query.interval}`);
  const result = await db.query<EventCountRow>({
    name: statement.name,
    text: statement.text,
    values: [query.tenantId, query.interval, query.from, query.to, query.type ?? null],
  });
  return result.rows;
}
