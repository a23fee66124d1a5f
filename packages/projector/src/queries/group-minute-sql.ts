import { jsonbEntries } from '@strata/core';

/*
 * The part of a group minute's recomputation both of its statements share (replace-group-minutes.ts for
 * a tenant's claimed minutes, replace-noted-group-minutes.ts for group-noted ones), as SQL text spliced
 * into them at module load (never input). It starts from a CTE `samples (label, label_value, value_key,
 * bucket, device, ts, f, n)`: each numeric value of each history row (f as float8, n as numeric, bucket
 * its minute) once per group its device was a member of at the row's ts (the version holding that
 * value covered ts). It defines `fresh`: one row per (label, label_value, value_key, minute), the
 * per-sample definition of decision 0074 —
 *  - count, numeric sum, float8 min and max over the numeric values of that key;
 *  - last: the value with the newest ts, the larger on a tie (as device rollups and live reads);
 *  - last_ts, first_ts: the newest and oldest event time;
 *  - devices: distinct devices that reported the key;
 *  - steps: when the minute holds at most GROUP_MINUTE_STEPS distinct event times of the group, their
 *    µs offsets from the minute and the running sum through each (inclusive), so a total at any instant
 *    inside the minute is exact without raw history; NULL arrays for a denser minute.
 */

/**
 * Distinct event times a group minute keeps as steps. A total inside a minute without steps reads its
 * members' history (one index probe per member: ~16 ms for 1,000 members), so the bound is set to cover
 * a 1,000-device group reporting every minute, at ~12 bytes a step (~12 KB for a full row, TOASTed);
 * denser minutes keep none (decision 0083).
 */
export const GROUP_MINUTE_STEPS = 1024;

/**
 * Bytes the running sums of one minute's steps may take. Sums are exact numerics, so values of wildly
 * different magnitudes (1e300 and 1e-300 both pass the event limits) make each a few hundred bytes:
 * without this a tenant could make every group minute row ~300 KB. A minute past it keeps no steps,
 * as a denser one.
 */
export const GROUP_MINUTE_STEP_BYTES = 16_384;

const KEEP_STEPS = `count(*) <= ${GROUP_MINUTE_STEPS} AND sum(pg_column_size(running)) <= ${GROUP_MINUTE_STEP_BYTES}`;

/**
 * CTEs `versions`, `spans`, `history` and `samples` (what GROUP_MINUTE_AGGREGATE and the heads start
 * from) out of two CTEs of the statement: `active (device)`, the devices that may have events in the
 * ranges, and `ranges (lo, hi)`, disjoint time ranges. Per active device and range, its label versions
 * overlapping the range (one primary-key range each), cut to it; per device and range, one primary-key
 * range of its history over the span of those versions; each numeric value of each row once per group
 * whose version covered the row's ts. `bounds`: more conditions on history's ts (parameters that let
 * the planner prune partitions), or ''.
 */
export function memberSamples(bounds = ''): string {
  return `versions AS (
  SELECT d.device, v.label, v.label_value, g.lo, greatest(v.valid_from, g.lo) AS a, least(v.valid_to, g.hi) AS b
    FROM active d
   CROSS JOIN ranges g
   CROSS JOIN LATERAL (
     -- \`value IS NOT NULL\` stays outside (OFFSET 0 keeps it there): inside, it would let the planner
     -- take label_versions_group_idx, a covering partial index led by (tenant, label, value), and read
     -- all of the tenant's entries for each device, measured at ~73 pages a probe and 1 s per 10,000
     -- active devices in the bench, instead of one primary-key range (~3 pages).
     SELECT label, value AS label_value, valid_from, valid_to FROM label_versions
      WHERE tenant_id = $1 AND device = d.device AND valid_to > g.lo AND valid_from < g.hi
     OFFSET 0 -- one primary-key range per active device and range
   ) v
   WHERE v.label_value IS NOT NULL
), spans AS (
  SELECT device, lo, min(a) AS a, max(b) AS b FROM versions GROUP BY device, lo
), history AS (
  -- Each numeric value of the members' rows, taken apart once however many labels the device has.
  SELECT s.device, s.lo, e.ts, k.key AS value_key, (k.value)::float8 AS f, (k.value)::numeric AS n
    FROM spans s
   CROSS JOIN LATERAL (
     SELECT ts, "values" FROM tenant_events
      WHERE tenant_id = $1 AND device = s.device AND ts >= s.a AND ts < s.b${bounds}
     OFFSET 0 -- one primary-key range per member and range
   ) e
   CROSS JOIN LATERAL ${jsonbEntries('e."values"')} k
   WHERE jsonb_typeof(k.value) = 'number'
), paired AS MATERIALIZED (
  -- Each value with each version of its device and range; those covering its ts are its samples. A
  -- full join in a MATERIALIZED CTE, filtered after it, as the drain's joins (decision 0095): the
  -- claimed minute was written in this transaction, past rollups_1m's statistics, so the planner
  -- takes \`active\` for one row and planned an inner join as a nested loop over \`versions\`: 3 ×
  -- devices² comparisons, 4.6 s for 5,000 reporting labelled devices (hostile review, 2026-12-01).
  SELECT v.label, v.label_value, h.value_key, h.device, h.ts, h.f, h.n, v.a, v.b
    FROM history h FULL JOIN versions v ON v.device = h.device AND v.lo = h.lo
), samples AS (
  SELECT label, label_value, value_key, date_bin('1 minute', ts, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS bucket, device, ts, f, n
    FROM paired WHERE ts >= a AND ts < b
)`;
}

export const GROUP_MINUTE_AGGREGATE = `
at_times AS (
  -- One row per distinct event time of a group minute, in time order within it, with the running sum.
  -- One sort serves the grouping, the window and the aggregates below (their input arrives in this
  -- order, so array_agg keeps it and the newest time's max is the minute's last, ties to the larger).
  SELECT label, label_value, value_key, bucket, ts, n_count, n_sum, f_min, f_max,
         sum(n_sum) OVER (PARTITION BY label, label_value, value_key, bucket ORDER BY ts) AS running
    FROM (SELECT label, label_value, value_key, bucket, ts, count(*) AS n_count, sum(n) AS n_sum, min(f) AS f_min, max(f) AS f_max
            FROM samples GROUP BY 1, 2, 3, 4, 5) t
   ORDER BY label, label_value, value_key, bucket, ts
), totals AS (
  SELECT label, label_value, value_key, bucket, sum(n_count) AS count, sum(n_sum) AS sum, min(f_min) AS min, max(f_max) AS max,
         (array_agg(f_max))[count(*)] AS last, max(ts) AS last_ts, min(ts) AS first_ts,
         CASE WHEN ${KEEP_STEPS} THEN array_agg((extract(epoch FROM ts - bucket) * 1000000)::int) END AS step_us,
         CASE WHEN ${KEEP_STEPS} THEN array_agg(running) END AS step_sum
    FROM at_times
   GROUP BY 1, 2, 3, 4
), reporters AS (
  SELECT label, label_value, value_key, bucket, count(*)::int AS devices
    FROM (SELECT DISTINCT label, label_value, value_key, bucket, device FROM samples) d
   GROUP BY 1, 2, 3, 4
), paired_totals AS MATERIALIZED (
  -- One to one (both group the same samples by the same key), joined as samples are: an inner join
  -- over 10,000 group keys ran as a nested loop, 10.7 s (hostile review, 2026-12-01).
  SELECT label, label_value, value_key, bucket, t.count, t.sum, t.min, t.max, t.last, t.last_ts, t.first_ts, t.step_us, t.step_sum, r.devices
    FROM totals t FULL JOIN reporters r USING (label, label_value, value_key, bucket)
), fresh AS (
  SELECT * FROM paired_totals WHERE count IS NOT NULL AND devices IS NOT NULL
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
