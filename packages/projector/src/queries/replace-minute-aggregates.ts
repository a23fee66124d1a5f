import { jsonbEntries, type Queryable } from '@strata/core';

/*
 * A tenant's minutes recomputed from history and written over what rollups_1m and event_counts_1m
 * hold for them: rows that changed are updated with the full new values, rows whose events are no
 * longer in history are deleted. Replacing, never adding, is what makes a retried or repeated
 * refresh harmless. Sums are numeric (exact whatever the order, no overflow); min, max and last are
 * the float8 values as sent; `last` is the value with the newest event time, the larger on a tie
 * (as in every level and in live reads).
 *
 * History is read per run of consecutive minutes (`ranges`, gaps and islands), one bounded scan of
 * the tenant's rows each (BRIN index on events.ts, partitions pruned at run time), and each row's
 * minute is computed, not joined: a refresh that caught up a day of minutes joined each event to
 * every claimed minute (1,440 × its rows; 0.8 s of 2.3 s, decision 0064), and a claim of a late
 * minute beside today's must not scan the days between them. $3/$4 bound all ranges: partitions
 * outside the claim are pruned at plan time, and the deletes read an index range of the claim's span
 * even when the planner, misled by the statistics of a table that was empty, hashes instead of looping.
 * Minutes stored for the first time are also combined into their stored hour and day here (decision
 * 0090); only the hours of minutes that changed or went are returned, for replace-coarser-rollups.ts to
 * recompute whole (a busy minute's 20,000 keys cost each level ~1 s that way, every minute).
 */

/**
 * CTE `name`: the `added` minutes combined per key and `bucket` (an expression of `hour`) into
 * `table`'s row (decision 0090), as the whole recomputation combines them. Table names from this file only.
 */
const addInto = (name: string, table: string, bucket: string): string => `${name} AS (
  INSERT INTO ${table} AS r (tenant_id, device, value_key, bucket, count, sum, min, max, last, last_ts)
  SELECT $1, device, value_key, ${bucket}, sum(count), sum(sum), min(min), max(max),
         (array_agg(last ORDER BY last_ts DESC, last DESC))[1], max(last_ts)
    FROM added GROUP BY 2, 3, 4 ORDER BY 2, 3, 4
  ON CONFLICT (tenant_id, device, value_key, bucket) DO UPDATE SET
    count = r.count + excluded.count, sum = r.sum + excluded.sum, min = least(r.min, excluded.min), max = greatest(r.max, excluded.max),
    last = CASE WHEN (excluded.last_ts, excluded.last) > (r.last_ts, r.last) THEN excluded.last ELSE r.last END,
    last_ts = greatest(r.last_ts, excluded.last_ts)
)`;

const SQL = `
WITH minutes AS (
  SELECT DISTINCT unnest($2::timestamptz[]) AS bucket
), ranges AS (
  SELECT min(bucket) AS lo, max(bucket) + interval '1 minute' AS hi
    FROM (SELECT bucket, bucket - row_number() OVER (ORDER BY bucket) * interval '1 minute' AS island FROM minutes) m
   GROUP BY island
), history AS (
  SELECT e.device, e.ts, e.type, e."values", date_bin('1 minute', e.ts, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS bucket
    FROM ranges g
   CROSS JOIN LATERAL (
     SELECT device, ts, type, "values" FROM tenant_events
      WHERE tenant_id = $1 AND ts >= g.lo AND ts < g.hi AND ts >= $3::timestamptz AND ts < $4::timestamptz
     OFFSET 0 -- kept a subquery (not pulled up into a join): one scan per range
   ) e
), fresh AS (
  SELECT h.device, v.key AS value_key, h.bucket, count(*) AS count, sum((v.value)::numeric) AS sum,
         min((v.value)::float8) AS min, max((v.value)::float8) AS max,
         (array_agg((v.value)::float8 ORDER BY h.ts DESC, (v.value)::float8 DESC))[1] AS last, max(h.ts) AS last_ts
    FROM history h CROSS JOIN LATERAL ${jsonbEntries('h."values"')} v
   WHERE jsonb_typeof(v.value) = 'number'
   GROUP BY 1, 2, 3
), written AS (
  INSERT INTO rollups_1m AS r (tenant_id, device, value_key, bucket, count, sum, min, max, last, last_ts)
  SELECT $1, device, value_key, bucket, count, sum, min, max, last, last_ts FROM fresh ORDER BY 1, 2, 3, 4
  ON CONFLICT (tenant_id, device, value_key, bucket) DO UPDATE SET
    count = excluded.count, sum = excluded.sum, min = excluded.min, max = excluded.max, last = excluded.last, last_ts = excluded.last_ts
  WHERE (r.count, r.sum, r.min, r.max, r.last, r.last_ts) IS DISTINCT FROM (excluded.count, excluded.sum, excluded.min, excluded.max, excluded.last, excluded.last_ts)
  -- Inserted rows (no stored minute before) have no xmax; a row updated here carries this transaction's.
  RETURNING r.device, r.value_key, r.bucket, r.count, r.sum, r.min, r.max, r.last, r.last_ts, r.xmax = '0'::xid AS inserted
), gone AS (
  -- Stored rows of the claimed minutes the recomputation no longer has. EXCEPT (hashed or sorted)
  -- rather than NOT EXISTS against the CTE, which the planner (guessing 200 rows for a CTE) can run
  -- as a nested loop: 48 s for 20k keys in the coarser levels' twin of this statement.
  SELECT r.device, r.value_key, r.bucket
    FROM ranges g JOIN rollups_1m r
      ON r.tenant_id = $1 AND r.bucket >= g.lo AND r.bucket < g.hi AND r.bucket >= $3::timestamptz AND r.bucket < $4::timestamptz
  EXCEPT
  SELECT device, value_key, bucket FROM fresh
), removed AS (
  DELETE FROM rollups_1m r USING gone x
   WHERE r.tenant_id = $1 AND r.device = x.device AND r.value_key = x.value_key AND r.bucket = x.bucket
  RETURNING r.device, r.value_key, r.bucket
), marked AS (
  -- Per key and hour: whether a stored minute changed or went (the hour is then recomputed whole by
  -- replace-coarser-rollups.ts), or only new minutes came (added to the hour and day below). A window
  -- over the written and removed rows, not a join of CTEs: the planner guesses their sizes (from
  -- history's estimate, tiny when the tables have no statistics) and ran a join of a busy minute's
  -- 20,000 keys as a nested loop over a CTE scan, 54 s (auto_explain, 2026-12-01 06:03).
  SELECT w.*, bool_and(w.inserted) OVER (PARTITION BY w.device, w.value_key, w.hour) AS only_new
    FROM (SELECT device, value_key, date_bin('1 hour', bucket, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS hour,
                 count, sum, min, max, last, last_ts, inserted
            FROM written
          UNION ALL
          SELECT device, value_key, date_bin('1 hour', bucket, TIMESTAMPTZ '1970-01-01 00:00:00+00'),
                 NULL, NULL, NULL, NULL, NULL, NULL, false
            FROM removed) w
), added AS (
  -- New minutes of hours where nothing stored changed: an hour (and its day) equals its minutes
  -- combined, so it stays equal with the new minutes combined into it (decision 0090). Exact as the
  -- recomputation is: counts and numeric sums add, min of minima, max of maxima, last of the newest.
  -- Only the minutes inserted here: a minute recomputed unchanged is in its hour already.
  SELECT device, value_key, hour, count, sum, min, max, last, last_ts FROM marked WHERE inserted AND only_new
), ${addInto('added_hours', 'rollups_1h', 'hour')}, ${addInto('added_days', 'rollups_1d', `date_bin('1 day', hour, TIMESTAMPTZ '1970-01-01 00:00:00+00')`)}, counts AS (
  SELECT bucket, type, count(*) AS count FROM history GROUP BY 1, 2
), counted AS (
  INSERT INTO event_counts_1m AS c (tenant_id, bucket, type, count)
  SELECT $1, bucket, type, count FROM counts ORDER BY 2, 3
  ON CONFLICT (tenant_id, bucket, type) DO UPDATE SET count = excluded.count WHERE c.count <> excluded.count
), uncounted AS (
  DELETE FROM event_counts_1m c USING ranges g
   WHERE c.tenant_id = $1 AND c.bucket >= g.lo AND c.bucket < g.hi AND c.bucket >= $3::timestamptz AND c.bucket < $4::timestamptz
     AND NOT EXISTS (SELECT 1 FROM counts n WHERE n.bucket = c.bucket AND n.type = c.type)
)
-- The hours whose stored minutes changed or went: the hour level's input (recomputed whole).
SELECT DISTINCT device, value_key, hour::text AS bucket FROM marked WHERE NOT only_new`;

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
