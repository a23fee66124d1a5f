import { jsonbEntries, type Queryable } from '@strata/core';
import { GROUP_MINUTE_AGGREGATE, groupKeys, TOUCHED_GROUP_HOURS, WRITE_GROUP_MINUTES, type GroupKey, type GroupKeyRow } from './group-minute-sql.ts';

/*
 * Group minutes whose notes the refresher claimed (claim-group-notes.ts: a label change moved a device's
 * events into or out of the group), recomputed from the members' history and written over
 * group_rollups_1m; rows of those (group, minute)s that no longer have events are deleted. Minutes are
 * taken per group as runs of consecutive minutes (gaps and islands); the group's versions overlapping a
 * run come from label_versions' group index, and each member version reads one primary-key range of
 * history (LATERAL, OFFSET 0): work ∝ the members' events in the noted minutes, never the tenant's.
 * A device's versions of one label never overlap, so no event is counted twice in a group.
 */
const SQL = `
WITH targets AS (
  SELECT DISTINCT label, label_value, bucket FROM unnest($2::text[], $3::text[], $4::timestamptz[]) AS t(label, label_value, bucket)
), runs AS (
  SELECT label, label_value, min(bucket) AS lo, max(bucket) + interval '1 minute' AS hi
    FROM (SELECT label, label_value, bucket,
                 bucket - row_number() OVER (PARTITION BY label, label_value ORDER BY bucket) * interval '1 minute' AS island
            FROM targets) t
   GROUP BY label, label_value, island
), versions AS (
  SELECT g.label, g.label_value, v.device, greatest(v.valid_from, g.lo) AS a, least(v.valid_to, g.hi) AS b
    FROM runs g
   CROSS JOIN LATERAL (
     SELECT device, valid_from, valid_to FROM label_versions
      WHERE tenant_id = $1 AND label = g.label AND value = g.label_value AND valid_to > g.lo AND valid_from < g.hi
     OFFSET 0
   ) v
), samples AS (
  SELECT v.label, v.label_value, k.key AS value_key, date_bin('1 minute', e.ts, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS bucket,
         v.device, e.ts, (k.value)::float8 AS f, (k.value)::numeric AS n
    FROM versions v
   CROSS JOIN LATERAL (
     SELECT ts, "values" FROM tenant_events
      WHERE tenant_id = $1 AND device = v.device AND ts >= v.a AND ts < v.b AND ts >= $5::timestamptz AND ts < $6::timestamptz
     OFFSET 0 -- one primary-key range per member version and run
   ) e
   CROSS JOIN LATERAL ${jsonbEntries('e."values"')} k
   WHERE jsonb_typeof(k.value) = 'number'
), ${GROUP_MINUTE_AGGREGATE}, ${WRITE_GROUP_MINUTES}, gone AS (
  SELECT r.label, r.label_value, r.value_key, r.bucket
    FROM targets t JOIN group_rollups_1m r
      ON r.tenant_id = $1 AND r.label = t.label AND r.label_value = t.label_value AND r.bucket = t.bucket
  EXCEPT
  SELECT label, label_value, value_key, bucket FROM fresh
), removed AS (
  DELETE FROM group_rollups_1m r USING gone x
   WHERE r.tenant_id = $1 AND r.label = x.label AND r.label_value = x.label_value AND r.value_key = x.value_key AND r.bucket = x.bucket
  RETURNING r.label, r.label_value, r.value_key, r.bucket
)
${TOUCHED_GROUP_HOURS}`;

/** A group minute to recompute: (label, value, minute ISO-8601). */
export interface GroupMinute {
  label: string;
  labelValue: string;
  bucket: string;
}

export interface ReplaceNotedGroupMinutesQuery {
  tenantId: string;
  minutes: GroupMinute[];
}

/** Returns the group keys written or deleted, binned to the hour (the group hour level's input). */
export async function replaceNotedGroupMinutes(db: Queryable, query: ReplaceNotedGroupMinutesQuery): Promise<GroupKey[]> {
  const times = query.minutes.map((minute) => Date.parse(minute.bucket));
  const from = new Date(Math.min(...times)).toISOString();
  const to = new Date(Math.max(...times) + 60_000).toISOString();
  const result = await db.query<GroupKeyRow>({
    name: 'replace-noted-group-minutes',
    text: SQL,
    values: [query.tenantId, query.minutes.map((m) => m.label), query.minutes.map((m) => m.labelValue), query.minutes.map((m) => m.bucket), from, to],
  });
  return groupKeys(result.rows);
}
