import type { Queryable } from '@strata/core';

/*
 * Tenant-wide event counts per bucket and type, exact and as fresh as history (decision 0060), in one
 * statement: the counter level that divides the interval (event_counts_1m for 1m/5m/15m,
 * event_counts_1h for 1h/1d) for buckets holding no noted (dirty) minute of the tenant; for an hour
 * that holds one, its other minutes from event_counts_1m; and the noted minutes themselves counted
 * from history (the BRIN index on events.ts finds them). Buckets are aligned to the Unix epoch in
 * UTC. A NULL type switches the filter off.
 */
const EPOCH = `TIMESTAMPTZ '1970-01-01 00:00:00+00'`;
const statement = (table: string, width: string): string => `
WITH dirty AS (
  SELECT DISTINCT bucket FROM aggregate_dirty
   WHERE tenant_id = $1 AND bucket >= $3::timestamptz AND bucket < $4::timestamptz
), stored AS (
  SELECT c.bucket, c.type, c.count
    FROM ${table} c
   WHERE c.tenant_id = $1 AND c.bucket >= $3::timestamptz AND c.bucket < $4::timestamptz
     AND ($5::text IS NULL OR c.type = $5::text)
     AND NOT EXISTS (SELECT 1 FROM dirty d WHERE d.bucket >= c.bucket AND d.bucket < c.bucket + interval '${width}')
), minutes AS (
  SELECT m.bucket, m.type, m.count
    FROM (SELECT DISTINCT date_bin('${width}', bucket, ${EPOCH}) AS bucket FROM dirty) h
    JOIN event_counts_1m m ON m.tenant_id = $1 AND m.bucket >= h.bucket AND m.bucket < h.bucket + interval '${width}'
   WHERE '${width}' <> '1 minute' AND ($5::text IS NULL OR m.type = $5::text)
     AND NOT EXISTS (SELECT 1 FROM dirty d WHERE d.bucket = m.bucket)
), live AS (
  SELECT d.bucket, e.type, count(*) AS count
    FROM dirty d
    JOIN events e ON e.tenant_id = $1 AND e.ts >= d.bucket AND e.ts < d.bucket + interval '1 minute'
   WHERE e.ts >= $3::timestamptz AND e.ts < $4::timestamptz AND ($5::text IS NULL OR e.type = $5::text)
   GROUP BY 1, 2
)
SELECT date_bin($2::interval, bucket, ${EPOCH}) AS bucket, type, sum(count)::float8 AS count
  FROM (SELECT * FROM stored UNION ALL SELECT * FROM minutes UNION ALL SELECT * FROM live) parts
 GROUP BY 1, 2
 ORDER BY 1, 2`;

/** Statement per interval, from a fixed list: table names never come from the request. */
const STATEMENTS: Record<string, { name: string; text: string }> = {
  '1 minute': { name: 'query-counts-1m', text: statement('event_counts_1m', '1 minute') },
  '5 minutes': { name: 'query-counts-5m', text: statement('event_counts_1m', '1 minute') },
  '15 minutes': { name: 'query-counts-15m', text: statement('event_counts_1m', '1 minute') },
  '1 hour': { name: 'query-counts-1h', text: statement('event_counts_1h', '1 hour') },
  '1 day': { name: 'query-counts-1d', text: statement('event_counts_1h', '1 hour') },
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
