/*
 * The part of a group minute's recomputation both of its statements share (replace-group-minutes.ts for
 * a tenant's claimed minutes, replace-noted-group-minutes.ts for group-noted ones), as SQL text spliced
 * into them at module load (never input). It starts from a CTE `attributed (label, label_value, device,
 * ts, "values")`: each history row once per group its device was a member of at the row's ts (the
 * version holding that value covered ts). It defines `fresh`: one row per (label, label_value,
 * value_key, minute), the per-sample definition of decision 0074 —
 *  - count, numeric sum, float8 min and max over the numeric values of that key;
 *  - last: the value with the newest ts, the larger on a tie (as device rollups and live reads);
 *  - last_ts, first_ts: the newest and oldest event time;
 *  - devices: distinct devices that reported the key;
 *  - steps: when the minute holds at most 128 distinct event times of the group, their µs offsets from
 *    the minute and the running sum through each (inclusive), so a total at any instant inside the
 *    minute is exact without raw history; NULL arrays for a denser minute.
 */
export const GROUP_MINUTE_AGGREGATE = `
samples AS (
  SELECT a.label, a.label_value, k.key AS value_key, date_bin('1 minute', a.ts, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS bucket,
         a.device, a.ts, (k.value)::float8 AS f, (k.value)::numeric AS n
    FROM attributed a CROSS JOIN LATERAL jsonb_each(a."values") k
   WHERE jsonb_typeof(k.value) = 'number'
), stepped AS (
  SELECT label, label_value, value_key, bucket, ts,
         sum(sum(n)) OVER (PARTITION BY label, label_value, value_key, bucket ORDER BY ts) AS running,
         count(*) OVER (PARTITION BY label, label_value, value_key, bucket) AS times
    FROM samples
   GROUP BY 1, 2, 3, 4, 5
), steps AS (
  SELECT label, label_value, value_key, bucket,
         array_agg((extract(epoch FROM ts - bucket) * 1000000)::int ORDER BY ts) AS step_us,
         array_agg(running ORDER BY ts) AS step_sum
    FROM stepped
   WHERE times <= 128
   GROUP BY 1, 2, 3, 4
), totals AS (
  SELECT label, label_value, value_key, bucket, count(*) AS count, sum(n) AS sum, min(f) AS min, max(f) AS max,
         (array_agg(f ORDER BY ts DESC, f DESC))[1] AS last, max(ts) AS last_ts, min(ts) AS first_ts,
         count(DISTINCT device)::int AS devices
    FROM samples
   GROUP BY 1, 2, 3, 4
), fresh AS (
  SELECT t.*, s.step_us, s.step_sum
    FROM totals t LEFT JOIN steps s USING (label, label_value, value_key, bucket)
)`;

/** Writes `fresh` over group_rollups_1m (full values; rows that did not change are left alone). CTE `written`. */
export const WRITE_GROUP_MINUTES = `
written AS (
  INSERT INTO group_rollups_1m AS r (tenant_id, label, label_value, value_key, bucket, count, sum, min, max, last, last_ts, first_ts, devices, step_us, step_sum)
  SELECT $1, label, label_value, value_key, bucket, count, sum, min, max, last, last_ts, first_ts, devices, step_us, step_sum
    FROM fresh ORDER BY 1, 2, 3, 4, 5
  ON CONFLICT (tenant_id, label, label_value, value_key, bucket) DO UPDATE SET
    count = excluded.count, sum = excluded.sum, min = excluded.min, max = excluded.max, last = excluded.last,
    last_ts = excluded.last_ts, first_ts = excluded.first_ts, devices = excluded.devices,
    step_us = excluded.step_us, step_sum = excluded.step_sum
  WHERE (r.count, r.sum, r.min, r.max, r.last, r.last_ts, r.first_ts, r.devices, r.step_us, r.step_sum)
        IS DISTINCT FROM (excluded.count, excluded.sum, excluded.min, excluded.max, excluded.last, excluded.last_ts,
                          excluded.first_ts, excluded.devices, excluded.step_us, excluded.step_sum)
)`;

/** Every group key the statement wrote or deleted (`removed`), binned to the hour: the group hour level's input. */
export const TOUCHED_GROUP_HOURS = `
SELECT DISTINCT label, label_value, value_key, date_bin('1 hour', bucket, TIMESTAMPTZ '1970-01-01 00:00:00+00')::text AS bucket
  FROM (SELECT label, label_value, value_key, bucket FROM fresh
        UNION ALL SELECT label, label_value, value_key, bucket FROM removed) k`;

/** A (label, value, value key, bucket) of a group level a refresh recomputed or deleted. */
export interface GroupKey {
  label: string;
  labelValue: string;
  valueKey: string;
  bucket: string;
}

export interface GroupKeyRow {
  label: string;
  label_value: string;
  value_key: string;
  bucket: string;
}

export function groupKeys(rows: GroupKeyRow[]): GroupKey[] {
  return rows.map((row) => ({ label: row.label, labelValue: row.label_value, valueKey: row.value_key, bucket: row.bucket }));
}
