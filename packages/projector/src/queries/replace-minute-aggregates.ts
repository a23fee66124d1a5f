import type { Queryable } from '@strata/core';

/*
 * A tenant's minutes recomputed from history and written over what rollups_1m and event_counts_1m
 * hold for them: rows that changed are updated with the full new values, rows whose events are no
 * longer in history are deleted. Replacing, never adding, is what makes a retried or repeated
 * refresh harmless. Sums are numeric (exact whatever the order, no overflow); min, max and last are
 * the float8 values as sent; `last` is the value with the newest event time, the larger on a tie
 * (as in every level and in live reads). The minutes are found by the BRIN index on events.ts;
 * $3/$4 bound the scan for partition pruning.
 */
const SQL = `
WITH minutes AS (
  SELECT DISTINCT unnest($2::timestamptz[]) AS bucket
), history AS (
  SELECT e.device, e.ts, e.type, e."values", m.bucket
    FROM minutes m
    JOIN events e ON e.tenant_id = $1 AND e.ts >= m.bucket AND e.ts < m.bucket + interval '1 minute'
   WHERE e.ts >= $3::timestamptz AND e.ts < $4::timestamptz
), fresh AS (
  SELECT h.device, v.key AS value_key, h.bucket, count(*) AS count, sum((v.value)::numeric) AS sum,
         min((v.value)::float8) AS min, max((v.value)::float8) AS max,
         (array_agg((v.value)::float8 ORDER BY h.ts DESC, (v.value)::float8 DESC))[1] AS last, max(h.ts) AS last_ts
    FROM history h CROSS JOIN LATERAL jsonb_each(h."values") v
   WHERE jsonb_typeof(v.value) = 'number'
   GROUP BY 1, 2, 3
), written AS (
  INSERT INTO rollups_1m AS r (tenant_id, device, value_key, bucket, count, sum, min, max, last, last_ts)
  SELECT $1, device, value_key, bucket, count, sum, min, max, last, last_ts FROM fresh ORDER BY 1, 2, 3, 4
  ON CONFLICT (tenant_id, device, value_key, bucket) DO UPDATE SET
    count = excluded.count, sum = excluded.sum, min = excluded.min, max = excluded.max, last = excluded.last, last_ts = excluded.last_ts
  WHERE (r.count, r.sum, r.min, r.max, r.last, r.last_ts) IS DISTINCT FROM (excluded.count, excluded.sum, excluded.min, excluded.max, excluded.last, excluded.last_ts)
), removed AS (
  DELETE FROM rollups_1m r USING minutes m
   WHERE r.tenant_id = $1 AND r.bucket = m.bucket
     AND NOT EXISTS (SELECT 1 FROM fresh f WHERE f.device = r.device AND f.value_key = r.value_key AND f.bucket = r.bucket)
  RETURNING r.device, r.value_key, r.bucket
), counts AS (
  SELECT bucket, type, count(*) AS count FROM history GROUP BY 1, 2
), counted AS (
  INSERT INTO event_counts_1m AS c (tenant_id, bucket, type, count)
  SELECT $1, bucket, type, count FROM counts ORDER BY 2, 3
  ON CONFLICT (tenant_id, bucket, type) DO UPDATE SET count = excluded.count WHERE c.count <> excluded.count
), uncounted AS (
  DELETE FROM event_counts_1m c USING minutes m
   WHERE c.tenant_id = $1 AND c.bucket = m.bucket
     AND NOT EXISTS (SELECT 1 FROM counts n WHERE n.bucket = c.bucket AND n.type = c.type)
)
-- Every key the refresh wrote or deleted, binned to the hour: the hour level's input.
SELECT DISTINCT device, value_key, date_bin('1 hour', bucket, TIMESTAMPTZ '1970-01-01 00:00:00+00')::text AS bucket
  FROM (SELECT device, value_key, bucket FROM fresh UNION ALL SELECT device, value_key, bucket FROM removed) k`;

/** A (device, value, bucket) a refresh recomputed or deleted: the coarser levels recompute its bucket. */
export interface RollupKey {
  device: string;
  valueKey: string;
  bucket: string;
}

export interface ReplaceMinuteAggregatesQuery {
  tenantId: string;
  /** Minute buckets, ISO-8601. */
  minutes: string[];
}

export async function replaceMinuteAggregates(db: Queryable, query: ReplaceMinuteAggregatesQuery): Promise<RollupKey[]> {
  const times = query.minutes.map((minute) => Date.parse(minute));
  const from = new Date(Math.min(...times)).toISOString();
  const to = new Date(Math.max(...times) + 60_000).toISOString();
  const result = await db.query<{ device: string; value_key: string; bucket: string }>({
    name: 'replace-minute-aggregates',
    text: SQL,
    values: [query.tenantId, query.minutes, from, to],
  });
  return result.rows.map((row) => ({ device: row.device, valueKey: row.value_key, bucket: row.bucket }));
}
