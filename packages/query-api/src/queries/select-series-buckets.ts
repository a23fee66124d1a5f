import type { Queryable } from '@strata/core';

// Series read the coarsest rollup level that divides the interval: rollups_1m for 1m, 5m and 15m,
// rollups_1h for 1h (720 rows for 30 days instead of 43,200), rollups_1d for 1d (365 rows for a
// year instead of 8,760). When the interval is the
// level's own width, rows are returned as stored; otherwise they are combined exactly: counts,
// sums, minima and maxima add up, and `last` is the one with the newest event time. Buckets are
// aligned to the Unix epoch in UTC, so a day bucket is a UTC day whatever the session time zone.
const direct = (table: string): string => `
  SELECT bucket, count::float8 AS count, sum, min, max, last
    FROM ${table}
   WHERE tenant_id = $1 AND device = $2 AND value_key = $3
     AND bucket >= $4::timestamptz AND bucket < $5::timestamptz
   ORDER BY bucket`;
const combined = (table: string): string => `
  SELECT date_bin($4::interval, bucket, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS bucket,
         sum(count)::float8 AS count,
         sum(sum) AS sum,
         min(min) AS min,
         max(max) AS max,
         (array_agg(last ORDER BY last_ts DESC))[1] AS last
    FROM ${table}
   WHERE tenant_id = $1 AND device = $2 AND value_key = $3
     AND bucket >= $5::timestamptz AND bucket < $6::timestamptz
   GROUP BY 1
   ORDER BY 1`;

/** Statement per interval, from a fixed list: table names never come from the request. */
const STATEMENTS: Record<string, { name: string; text: string; combines: boolean }> = {
  '1 minute': { name: 'query-series-1m', text: direct('rollups_1m'), combines: false },
  '5 minutes': { name: 'query-series-5m', text: combined('rollups_1m'), combines: true },
  '15 minutes': { name: 'query-series-15m', text: combined('rollups_1m'), combines: true },
  '1 hour': { name: 'query-series-1h', text: direct('rollups_1h'), combines: false },
  '1 day': { name: 'query-series-1d', text: direct('rollups_1d'), combines: false },
};

export interface SeriesBucketRow {
  bucket: string;
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
}

export interface SelectSeriesBucketsQuery {
  tenantId: string;
  device: string;
  valueKey: string;
  /** A PostgreSQL interval, e.g. '5 minutes'. */
  interval: string;
  /** Bucket-aligned bounds, ISO-8601; from inclusive, to exclusive. */
  from: string;
  to: string;
}

export async function selectSeriesBuckets(db: Queryable, query: SelectSeriesBucketsQuery): Promise<SeriesBucketRow[]> {
  const statement = STATEMENTS[query.interval];
  if (!statement) throw new Error(`no rollup level for interval ${query.interval}`);
  const key = [query.tenantId, query.device, query.valueKey];
  const result = await db.query<SeriesBucketRow>({
    name: statement.name,
    text: statement.text,
    values: statement.combines ? [...key, query.interval, query.from, query.to] : [...key, query.from, query.to],
  });
  return result.rows;
}
