import type { Queryable } from '@strata/core';
import { averageOfWideSum, numericToDouble } from './double-sql.ts';

/*
 * Series as exact continuous aggregates (decision 0060), in one statement and so one snapshot:
 *  - `stored`: the rows of the coarsest rollup level that divides the interval (rollups_1m for 1m, 5m
 *    and 15m; rollups_1h for 1h; rollups_1d for 1d) whose bucket holds no noted (dirty) minute of the
 *    tenant (`held`: the level's buckets that do, a hashed NOT IN, decision 0095): the refresher has
 *    materialized everything in them;
 *  - `minutes`: for an hour or day that holds a noted minute, its other minutes from rollups_1m (never
 *    the stale hour or day row);
 *  - `live`: the noted minutes themselves, aggregated from history (the device's primary-key range).
 * A note commits with its events and is deleted only by the refresh that materializes them, so every
 * event visible in this snapshot is counted exactly once. The parts are combined exactly: counts and
 * numeric sums add, min of minima, max of maxima, `last` is the value with the newest event time (the
 * larger on a tie, as the refresher does). Buckets are aligned to the Unix epoch in UTC.
 *
 * When the level's bucket is the interval (1m, 1h, 1d), a stored row is already the answer for its
 * bucket and goes out as it is; only the buckets holding a noted minute are combined. Regrouping
 * every stored row (an ordered array_agg per bucket) was most of a 24 h @ 1m read: 2.1 of 3 ms on a
 * 1M-event device (decision 0065). Buckets go out as epoch milliseconds (float8), which the route
 * formats, instead of timestamptz text that Node had to parse back into a Date per bucket.
 *
 * The parts read per held bucket and noted minute are LATERAL subqueries kept apart by OFFSET 0: one
 * primary-key range each, whatever the estimates. As joins, a custom plan that misjudged how many of
 * a device's events carry the value (jsonb_typeof's default selectivity) scanned its whole day of
 * history once and filtered it against every noted minute: 35 ms instead of 2.5 (decision 0065).
 * History is bounded by the noted minute alone (each lies inside the range): with the range's bounds
 * too, a custom plan pruned partitions at plan time and always looked cheaper than the generic one,
 * so PostgreSQL planned the statement anew on every call (0.6 ms); without them the generic plan is
 * kept and partitions are pruned at run time, minute by minute.
 */
const EPOCH = `TIMESTAMPTZ '1970-01-01 00:00:00+00'`;
const STATE_TAG = `(SELECT s.version::text || '/' || s.xmin::text FROM device_state s WHERE s.tenant_id = $1 AND s.device = $2)`;
const statement = (table: string, width: string, passThrough: boolean): string => `
WITH dirty AS (
  SELECT DISTINCT bucket FROM aggregate_dirty
   WHERE tenant_id = $1 AND bucket >= $5::timestamptz AND bucket < $6::timestamptz
), held AS (
  SELECT DISTINCT date_bin('${width}', bucket, ${EPOCH}) AS bucket FROM dirty
), stored AS (
  SELECT r.bucket, r.count, r.sum, r.min, r.max, r.last, r.last_ts
    FROM ${table} r
   WHERE r.tenant_id = $1 AND r.device = $2 AND r.value_key = $3
     AND r.bucket >= $5::timestamptz AND r.bucket < $6::timestamptz
     AND r.bucket NOT IN (SELECT bucket FROM held)
), minutes AS (
  SELECT m.bucket, m.count, m.sum, m.min, m.max, m.last, m.last_ts
    FROM held c
   CROSS JOIN LATERAL (
     SELECT bucket, count, sum, min, max, last, last_ts FROM rollups_1m
      WHERE '${width}' <> '1 minute' AND tenant_id = $1 AND device = $2 AND value_key = $3
        AND bucket >= c.bucket AND bucket < c.bucket + interval '${width}'
     OFFSET 0
   ) m
   WHERE NOT EXISTS (SELECT 1 FROM dirty d WHERE d.bucket = m.bucket)
), live AS (
  SELECT d.bucket, count(*) AS count, sum(e.v::numeric) AS sum, min(e.v::float8) AS min, max(e.v::float8) AS max,
         (array_agg(e.v::float8 ORDER BY e.ts DESC, e.v::float8 DESC))[1] AS last, max(e.ts) AS last_ts
    FROM dirty d
   CROSS JOIN LATERAL (
     SELECT ts, "values" -> $3 AS v FROM tenant_events
      WHERE tenant_id = $1 AND device = $2 AND ts >= d.bucket AND ts < d.bucket + interval '1 minute'
     OFFSET 0
   ) e
   WHERE jsonb_typeof(e.v) = 'number'
   GROUP BY d.bucket
), combined AS (
  SELECT date_bin($4::interval, bucket, ${EPOCH}) AS bucket, sum(count) AS count, sum(sum) AS sum, min(min) AS min, max(max) AS max,
         (array_agg(last ORDER BY last_ts DESC, last DESC))[1] AS last
    FROM (${passThrough ? '' : 'SELECT * FROM stored UNION ALL '}SELECT * FROM minutes UNION ALL SELECT * FROM live) parts
   GROUP BY 1
)
SELECT date_part('epoch', bucket) * 1000 AS ms, count::float8 AS count, ${numericToDouble('sum')} AS sum, min, max, last,
       ${averageOfWideSum('sum', 'count')} AS wide_avg, NULL::text AS state_tag
  FROM (${passThrough ? 'SELECT bucket, count, sum, min, max, last FROM stored UNION ALL ' : ''}SELECT * FROM combined) answer
UNION ALL
-- The device's state row as this snapshot sees it, as a row without a bucket (decision 0103): every
-- drain that adds to the device's history updates it, so while it is unchanged, so is this answer.
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, ${STATE_TAG}
 ORDER BY ms NULLS LAST`;

/** Statement per interval, from a fixed list: table names never come from the request. */
const STATEMENTS: Record<string, { name: string; text: string }> = {
  '1 minute': { name: 'query-series-1m', text: statement('rollups_1m', '1 minute', true) },
  '5 minutes': { name: 'query-series-5m', text: statement('rollups_1m', '1 minute', false) },
  '15 minutes': { name: 'query-series-15m', text: statement('rollups_1m', '1 minute', false) },
  '1 hour': { name: 'query-series-1h', text: statement('rollups_1h', '1 hour', true) },
  '1 day': { name: 'query-series-1d', text: statement('rollups_1d', '1 day', true) },
};

export interface SeriesBucketRow {
  /** The bucket's start, epoch milliseconds. */
  ms: number;
  count: number;
  /** ±Infinity when the exact sum is beyond a double's range (answered as null). */
  sum: number;
  min: number;
  max: number;
  last: number;
  /** The average when `sum` is infinite; null otherwise (sum / count is the average). */
  wide_avg: number | null;
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

export interface SeriesBuckets {
  rows: SeriesBucketRow[];
  /**
   * The device's state row as the statement's snapshot saw it (its version and xmin; 'none' without
   * one): a drain that adds to the device's history changes it in the same transaction.
   */
  stateTag: string;
}

export async function selectSeriesBuckets(db: Queryable, query: SelectSeriesBucketsQuery): Promise<SeriesBuckets> {
  const statement = STATEMENTS[query.interval];
  if (!statement) throw new Error(`no rollup level for interval ${query.interval}`);
  const result = await db.query<SeriesBucketRow & { state_tag: string | null }>({
    name: statement.name,
    text: statement.text,
    values: [query.tenantId, query.device, query.valueKey, query.interval, query.from, query.to],
  });
  const rows = result.rows;
  // The last row is the one without a bucket; it carries only the tag.
  const tagRow = rows.pop();
  return { rows, stateTag: tagRow?.state_tag ?? 'none' };
}

/** The device's state tag (selectSeriesBuckets' `stateTag`) as a snapshot taken now sees it. */
export async function selectDeviceStateTag(db: Queryable, tenantId: string, device: string): Promise<string> {
  const result = await db.query<{ state_tag: string | null }>({
    name: 'query-device-state-tag',
    text: `SELECT ${STATE_TAG} AS state_tag`,
    values: [tenantId, device],
  });
  return result.rows[0]?.state_tag ?? 'none';
}
