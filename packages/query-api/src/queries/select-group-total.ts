import type { Queryable } from '@strata/core';
import { numericToDouble } from './double-sql.ts';
import { groupMembersWithEventsIn, memberNotedMinutes } from './group-members-sql.ts';

/*
 * The running sum of one value over a group up to and including `at` (decision 0074), one statement:
 *   group_totals_base (days dropped by aggregate retention, folded up to `through`)
 * + the group's day rows before day(at), hour rows of day(at) before hour(at), minute rows of hour(at)
 *   before minute(at), each level skipping buckets that hold a noted minute (a tenant note in which a
 *   member may hold events, `member_noted` of group-members-sql.ts, or a group note) and reading those
 *   from the next finer level (`held_d`, `held_h`: one range per held bucket);
 * + noted minutes before minute(at), live from members' history (per run of consecutive noted
 *   minutes, each version of the value that overlaps it, its device's events cut to the version's validity);
 * + the partial minute [minute(at), at]: noted → live; else from its row: `at ≥ last_ts` → all of it,
 *   `at < first_ts` → none, `steps` (offsets in µs from the minute's start, ascending; running sums)
 *   → the last step at or before `at`; a denser minute (no steps) from members' history while raw
 *   is kept (its count equals the row's), else left out and the answer is exact at the minute's start.
 * Each level is summed once, so the cost is ≤ ~400 day rows + 23 + 59 + noted minutes + one minute
 * (+ one probe per member when that minute is denser than the steps a minute keeps).
 */
const EPOCH = `TIMESTAMPTZ '1970-01-01 00:00:00+00'`;
const KEY = 'tenant_id = $1 AND label = $2 AND label_value = $3 AND value_key = $4';

const SQL = `
WITH bounds AS (
  SELECT coalesce(b.through, '-infinity'::timestamptz) AS lo, coalesce(b.sum, 0) AS base,
         date_bin('1 day', $5::timestamptz, ${EPOCH}) AS day, date_bin('1 hour', $5::timestamptz, ${EPOCH}) AS hour,
         date_bin('1 minute', $5::timestamptz, ${EPOCH}) AS minute
    FROM (SELECT 1) one
    LEFT JOIN group_totals_base b ON b.${KEY.replaceAll(' AND ', ' AND b.')}
), ${memberNotedMinutes('bucket >= (SELECT lo FROM bounds) AND bucket <= (SELECT minute FROM bounds)')}, dirty AS (
  SELECT bucket FROM member_noted
  UNION
  SELECT g.bucket FROM group_dirty g, bounds s
   WHERE g.tenant_id = $1 AND g.label = $2 AND g.label_value = $3 AND g.bucket >= s.lo AND g.bucket <= s.minute
), held_d AS (
  SELECT DISTINCT date_bin('1 day', bucket, ${EPOCH}) AS bucket FROM dirty
), held_h AS (
  SELECT DISTINCT date_bin('1 hour', bucket, ${EPOCH}) AS bucket FROM dirty
), days AS (
  SELECT sum(r.sum) AS sum FROM bounds s
    JOIN group_rollups_1d r ON r.${KEY.replaceAll(' AND ', ' AND r.')} AND r.bucket >= s.lo AND r.bucket < date_bin('1 day', $5::timestamptz, ${EPOCH})
   WHERE NOT EXISTS (SELECT 1 FROM held_d h WHERE h.bucket = r.bucket)
), hour_ranges AS (
  SELECT greatest(s.day, s.lo) AS lo, s.hour AS hi FROM bounds s
  UNION ALL
  SELECT h.bucket, h.bucket + interval '1 day' FROM held_d h, bounds s WHERE h.bucket < s.day
), hours AS (
  SELECT sum(r.sum) AS sum FROM hour_ranges g
   CROSS JOIN LATERAL (
     SELECT bucket, sum FROM group_rollups_1h WHERE ${KEY} AND bucket >= g.lo AND bucket < g.hi OFFSET 0
   ) r
   WHERE NOT EXISTS (SELECT 1 FROM held_h h WHERE h.bucket = r.bucket)
), minute_ranges AS (
  SELECT greatest(s.hour, s.lo) AS lo, s.minute AS hi FROM bounds s
  UNION ALL
  SELECT h.bucket, h.bucket + interval '1 hour' FROM held_h h, bounds s WHERE h.bucket < s.hour
), minutes AS (
  SELECT sum(r.sum) AS sum FROM minute_ranges g
   CROSS JOIN LATERAL (
     SELECT bucket, sum FROM group_rollups_1m WHERE ${KEY} AND bucket >= g.lo AND bucket < g.hi OFFSET 0
   ) r
   WHERE NOT EXISTS (SELECT 1 FROM dirty d WHERE d.bucket = r.bucket)
), runs AS (
  -- Consecutive noted minutes as one range: one history probe per member and run, not per minute.
  SELECT min(bucket) AS lo, max(bucket) + interval '1 minute' AS hi
    FROM (SELECT bucket, bucket - row_number() OVER (ORDER BY bucket) * interval '1 minute' AS island FROM dirty) d
   GROUP BY island
), live AS (
  -- Noted minutes, the partial one included: its events after \`at\` are left out.
  SELECT sum(e.v::numeric) AS sum
    FROM runs r
   CROSS JOIN LATERAL (
     ${groupMembersWithEventsIn('r.lo', 'r.hi')}
     OFFSET 0
   ) m
   CROSS JOIN LATERAL (
     SELECT ts, "values" -> $4 AS v FROM tenant_events
      WHERE tenant_id = $1 AND device = m.device
        AND ts >= r.lo AND ts < r.hi AND ts >= m.valid_from AND ts < m.valid_to AND ts <= $5::timestamptz
     OFFSET 0
   ) e
   WHERE jsonb_typeof(e.v) = 'number'
), partial_row AS (
  SELECT r.count, r.sum, r.first_ts, r.last_ts, r.step_us, r.step_sum, s.minute
    FROM bounds s
    -- The bucket compared with \$5's minute itself (not s.minute): the planner then probes the primary
    -- key for the one row instead of reading every minute of the group and filtering.
    JOIN group_rollups_1m r ON r.${KEY.replaceAll(' AND ', ' AND r.')} AND r.bucket = date_bin('1 minute', $5::timestamptz, ${EPOCH}) AND s.minute >= s.lo
   WHERE NOT EXISTS (SELECT 1 FROM dirty d WHERE d.bucket = s.minute)
), partial AS (
  SELECT CASE
           WHEN $5::timestamptz >= p.last_ts THEN p.sum
           WHEN $5::timestamptz < p.first_ts THEN 0
           WHEN p.step_us IS NOT NULL THEN coalesce((
             SELECT t.sum FROM unnest(p.step_us, p.step_sum) AS t(us, sum)
              WHERE t.us <= (extract(epoch FROM $5::timestamptz - p.minute) * 1000000)
              ORDER BY t.us DESC LIMIT 1), 0)
           WHEN h.count = p.count THEN h.sum
         END AS sum
    FROM partial_row p
   CROSS JOIN LATERAL (
     -- Only for a dense minute: its members' history, whole (to tell whether raw is still kept) and up to \`at\`.
     SELECT count(*) AS count, coalesce(sum(e.v::numeric) FILTER (WHERE e.ts <= $5::timestamptz), 0) AS sum
       FROM label_versions m
      CROSS JOIN LATERAL (
        SELECT ts, "values" -> $4 AS v FROM tenant_events
         WHERE tenant_id = $1 AND device = m.device
           AND ts >= p.minute AND ts < p.minute + interval '1 minute' AND ts >= m.valid_from AND ts < m.valid_to
        OFFSET 0
      ) e
      WHERE p.step_us IS NULL AND $5::timestamptz >= p.first_ts AND $5::timestamptz < p.last_ts
        AND m.tenant_id = $1 AND m.label = $2 AND m.value = $3
        AND m.valid_to > p.minute AND m.valid_from < p.minute + interval '1 minute'
        AND jsonb_typeof(e.v) = 'number'
   ) h
)
SELECT ${numericToDouble('t.sum')} AS total,
       CASE
         WHEN $5::timestamptz < s.lo THEN date_part('epoch', s.lo) * 1000 - 1
         WHEN EXISTS (SELECT 1 FROM partial WHERE sum IS NULL) THEN date_part('epoch', s.minute) * 1000 - 1
       END AS exact_at_ms
  FROM bounds s
 CROSS JOIN LATERAL (
   SELECT s.base + coalesce((SELECT sum FROM days), 0) + coalesce((SELECT sum FROM hours), 0) + coalesce((SELECT sum FROM minutes), 0)
          + coalesce((SELECT sum FROM live), 0) + coalesce((SELECT sum FROM partial), 0) AS sum
   -- Evaluated once: inlined, the sum (and each level's subquery in it) would be copied into every
   -- place numericToDouble names it.
   OFFSET 0
 ) t`;

export interface GroupTotalRow {
  /** ±Infinity when the exact total is beyond a double's range (answered as null). */
  total: number;
  /**
   * Epoch ms the total is exact up to and including, when not `at`: a minute too dense for steps
   * whose raw history is gone (the total of the minutes before it), or an `at` before the days
   * folded into the base (the base).
   */
  exact_at_ms: number | null;
}

export interface SelectGroupTotalQuery {
  tenantId: string;
  label: string;
  labelValue: string;
  valueKey: string;
  /** ISO-8601; the total includes events at this instant. */
  at: string;
}

export async function selectGroupTotal(db: Queryable, query: SelectGroupTotalQuery): Promise<GroupTotalRow> {
  const result = await db.query<GroupTotalRow>({
    name: 'query-select-group-total',
    text: SQL,
    values: [query.tenantId, query.label, query.labelValue, query.valueKey, query.at],
  });
  return result.rows[0] as GroupTotalRow;
}
