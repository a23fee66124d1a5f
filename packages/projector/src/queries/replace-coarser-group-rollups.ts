import type { Queryable } from '@strata/core';
import { groupKeys, type GroupKey, type GroupKeyRow } from './group-minute-sql.ts';

/*
 * One coarser group level (hour from minutes, day from hours) recomputed for the (label, value, value
 * key, bucket) keys a refresh touched at the level below, and written over what it holds (full values;
 * keys whose finer rows are gone are deleted). count, sum, min, max, last (newest last_ts, the larger on
 * a tie), last_ts and first_ts combine exactly from the finer group rows, one primary-key range per key.
 * `devices` does not add up (a device reporting in two minutes counts once in their hour), so it is
 * recounted from the members (decision 0074): each version holding the value that overlaps the bucket
 * (label_versions' group index); a member whose version covers the whole bucket reported iff it has a
 * device rollup row of the same width (rollups_1h / rollups_1d, refreshed earlier in the transaction);
 * one whose version starts or ends inside the bucket, iff it has a rollups_1m row in the minutes the
 * version covers whole, or a numeric value of the key in history in the partial minutes at its ends.
 * Cost ∝ members of each touched group bucket (a probe each) plus the rare partial members' minutes.
 */
const statement = (target: string, source: string, deviceLevel: string, width: string, next: string): string => `
WITH touched AS (
  SELECT DISTINCT label, label_value, value_key, date_bin('${width}', bucket, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS bucket
    FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[]) AS k(label, label_value, value_key, bucket)
), parts AS (
  SELECT t.label, t.label_value, t.value_key, t.bucket, sum(s.count) AS count, sum(s.sum) AS sum, min(s.min) AS min, max(s.max) AS max,
         (array_agg(s.last ORDER BY s.last_ts DESC, s.last DESC))[1] AS last, max(s.last_ts) AS last_ts, min(s.first_ts) AS first_ts
    FROM touched t
   CROSS JOIN LATERAL (
     SELECT count, sum, min, max, last, last_ts, first_ts FROM ${source}
      WHERE tenant_id = $1 AND label = t.label AND label_value = t.label_value AND value_key = t.value_key
        AND bucket >= t.bucket AND bucket < t.bucket + interval '${width}'
     OFFSET 0 -- one index range per key, whatever the statistics say
   ) s
   GROUP BY 1, 2, 3, 4
), members AS (
  SELECT g.label, g.label_value, g.bucket, v.device, greatest(v.valid_from, g.bucket) AS a, least(v.valid_to, g.bucket + interval '${width}') AS b
    FROM (SELECT DISTINCT label, label_value, bucket FROM parts) g
   CROSS JOIN LATERAL (
     SELECT device, valid_from, valid_to FROM label_versions
      WHERE tenant_id = $1 AND label = g.label AND value = g.label_value
        AND valid_to > g.bucket AND valid_from < g.bucket + interval '${width}'
     OFFSET 0
   ) v
), spans AS (
  -- Whole minutes a partial member's version covers: [lo_min, hi_min); the ends outside them are partial minutes.
  SELECT m.*, date_bin('1 minute', a + interval '59.999999 seconds', TIMESTAMPTZ '1970-01-01 00:00:00+00') AS lo_min,
         date_bin('1 minute', b, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS hi_min,
         a = bucket AND b = bucket + interval '${width}' AS whole
    FROM members m
), reporting AS (
  SELECT p.label, p.label_value, p.value_key, p.bucket, count(DISTINCT s.device)::int AS devices
    FROM parts p
    JOIN spans s ON s.label = p.label AND s.label_value = p.label_value AND s.bucket = p.bucket
   WHERE CASE WHEN s.whole THEN EXISTS (
           SELECT 1 FROM ${deviceLevel} r WHERE r.tenant_id = $1 AND r.device = s.device AND r.value_key = p.value_key AND r.bucket = p.bucket)
         ELSE EXISTS (
           -- The lower bound as a row comparison in the primary key's order, which only that index can take
           -- as its start: with a plain one the planner chose rollups_1m's (tenant, bucket) index and read
           -- every device's minutes from the version's start until this device's first (~900 rows a
           -- member: 0.9 s a group day of 1,000 members on every claim of the bench's group phase). The
           -- upper bound stays plain: btree stops a scan only on a row comparison's first column, so a row
           -- upper bound would read the rest of the device's history whenever the range holds no row.
           SELECT 1 FROM rollups_1m r WHERE r.tenant_id = $1 AND r.device = s.device AND r.value_key = p.value_key
              AND (r.device, r.value_key, r.bucket) >= (s.device, p.value_key, s.lo_min) AND r.bucket < s.hi_min)
           OR EXISTS (
           SELECT 1 FROM tenant_events e WHERE e.tenant_id = $1 AND e.device = s.device
              AND ((e.ts >= s.a AND e.ts < least(s.lo_min, s.b)) OR (e.ts >= greatest(s.hi_min, s.lo_min) AND e.ts < s.b))
              AND jsonb_typeof(e."values" -> p.value_key) = 'number')
         END
   GROUP BY 1, 2, 3, 4
), paired AS MATERIALIZED (
  -- A full join in a MATERIALIZED CTE, filtered after it (decision 0095): in the generic plan \`touched\`
  -- is ten rows to the planner, and the left join over 10,000 group keys ran as a nested loop, 6.2 s
  -- an hour level and 11.5 s a day level (hostile review, 2026-12-01).
  SELECT label, label_value, value_key, bucket, p.count, p.sum, p.min, p.max, p.last, p.last_ts, p.first_ts,
         coalesce(r.devices, 0) AS devices, p.bucket IS NOT NULL AS in_parts
    FROM parts p FULL JOIN reporting r USING (label, label_value, value_key, bucket)
), fresh AS (
  SELECT label, label_value, value_key, bucket, count, sum, min, max, last, last_ts, first_ts, devices FROM paired WHERE in_parts
), written AS (
  INSERT INTO ${target} AS r (tenant_id, label, label_value, value_key, bucket, count, sum, min, max, last, last_ts, first_ts, devices)
  SELECT $1, label, label_value, value_key, bucket, count, sum, min, max, last, last_ts, first_ts, devices FROM fresh ORDER BY 1, 2, 3, 4, 5
  ON CONFLICT (tenant_id, label, label_value, value_key, bucket) DO UPDATE SET
    count = excluded.count, sum = excluded.sum, min = excluded.min, max = excluded.max, last = excluded.last,
    last_ts = excluded.last_ts, first_ts = excluded.first_ts, devices = excluded.devices
  WHERE (r.count, r.sum, r.min, r.max, r.last, r.last_ts, r.first_ts, r.devices)
        IS DISTINCT FROM (excluded.count, excluded.sum, excluded.min, excluded.max, excluded.last, excluded.last_ts, excluded.first_ts, excluded.devices)
), gone AS (
  -- EXCEPT rather than NOT EXISTS against a CTE (the planner's 200-row guess; see replace-coarser-rollups.ts).
  SELECT label, label_value, value_key, bucket FROM touched
  EXCEPT
  SELECT label, label_value, value_key, bucket FROM fresh
), removed AS (
  DELETE FROM ${target} r USING gone g
   WHERE r.tenant_id = $1 AND r.label = g.label AND r.label_value = g.label_value AND r.value_key = g.value_key AND r.bucket = g.bucket
)
SELECT DISTINCT label, label_value, value_key, date_bin('${next}', bucket, TIMESTAMPTZ '1970-01-01 00:00:00+00')::text AS bucket FROM touched`;

/** Levels from a fixed list: table names never come from input. */
const LEVELS = {
  hour: { name: 'replace-group-rollups-1h', text: statement('group_rollups_1h', 'group_rollups_1m', 'rollups_1h', '1 hour', '1 day') },
  day: { name: 'replace-group-rollups-1d', text: statement('group_rollups_1d', 'group_rollups_1h', 'rollups_1d', '1 day', '1 day') },
} as const;

export interface ReplaceCoarserGroupRollupsQuery {
  tenantId: string;
  level: keyof typeof LEVELS;
  /** Group keys of the finer level a refresh recomputed, kept or deleted. */
  touched: GroupKey[];
}

/** Recomputes the level's buckets holding `touched`; returns them binned to the day (the next call's input). */
export async function replaceCoarserGroupRollups(db: Queryable, query: ReplaceCoarserGroupRollupsQuery): Promise<GroupKey[]> {
  if (query.touched.length === 0) return [];
  const level = LEVELS[query.level];
  const t = query.touched;
  const result = await db.query<GroupKeyRow>({
    name: level.name,
    text: level.text,
    values: [query.tenantId, t.map((k) => k.label), t.map((k) => k.labelValue), t.map((k) => k.valueKey), t.map((k) => k.bucket)],
  });
  return groupKeys(result.rows);
}
