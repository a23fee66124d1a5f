import type { Queryable } from '@strata/core';

// Coarser buckets are exact combinations of the one-minute rollups: counts, sums, minima and maxima
// add up, and `last` is the one-minute `last` with the newest event time. Buckets are aligned to the
// Unix epoch in UTC, so a day bucket is a UTC day whatever the session time zone.
const SQL = `
  SELECT date_bin($4::interval, bucket, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS bucket,
         sum(count)::float8 AS count,
         sum(sum) AS sum,
         min(min) AS min,
         max(max) AS max,
         (array_agg(last ORDER BY last_ts DESC))[1] AS last
    FROM rollups_1m
   WHERE tenant_id = $1 AND device = $2 AND value_key = $3
     AND bucket >= $5::timestamptz AND bucket < $6::timestamptz
   GROUP BY 1
   ORDER BY 1`;

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
  const result = await db.query<SeriesBucketRow>({
    name: 'query-select-series-buckets',
    text: SQL,
    values: [query.tenantId, query.device, query.valueKey, query.interval, query.from, query.to],
  });
  return result.rows;
}
