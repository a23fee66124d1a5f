import type { Queryable } from '@strata/core';
import { groupVersionsIn, headedMinutes, memberNotedFromMembers } from './group-members-sql.ts';
import { averageOfWideSum, numericToDouble } from './double-sql.ts';
import type { SeriesBucketRow } from './select-series-buckets.ts';

/*
 * A group's series (decision 0074) as exact continuous aggregates, in one statement and so one
 * snapshot, built like a device's series (0060, 0065):
 *  - `dirty`: the range's noted minutes: the tenant's (aggregate_dirty: events not yet refreshed) in
 *    which a member may hold events (`member_noted`, group-members-sql.ts: a note left by other
 *    devices only leaves the group's rows exact) and this group's (group_dirty: a label change
 *    re-attributed the minute's events);
 *  - `stored`: the group rows of the level (group_rollups_1m for 1m, 5m, 15m; _1h; _1d) whose bucket
 *    holds no noted minute (`held`, an equality anti-join);
 *  - `minutes`: for an hour or day that is held, its other minutes from group_rollups_1m;
 *  - `heads`: an open noted minute's events before its head's `through` (decision 0085); the minute's
 *    tail after it is read live, except in a read that may be stale by the head's age (`answered`,
 *    decision 0088), which ends the bucket holding the minute at `through`, `devices` included, and
 *    says how far behind it is in a row without a bucket;
 *  - `live`: the noted minutes from their members' history: per run of consecutive noted minutes,
 *    every version of the label value that overlaps it gives one primary-key range of its device's
 *    events, cut to the version's validity, so each event counts under the value its device held at
 *    the event's time; members whose newest event is older than the run are skipped (group-members-sql.ts).
 * Parts combine exactly (numeric sums, `last` by newest event time, the larger on a tie).
 *
 * `devices` (distinct reporters) cannot be added up across minutes. A stored row of the interval's
 * own width carries it; a combined bucket (a held one, or any 5m/15m bucket) counts the members that
 * reported in it: a device rollup minute wholly inside the bucket and the member's version (rollup
 * rows exist only for minutes with a numeric value, and events are never removed from history while
 * a rollup is stale), or else an event of the value in history within the bucket and the version.
 * Exact while raw history is kept; after raw retention a member whose version began or ended inside
 * one of the bucket's minutes is counted only if it reported in a whole minute of it. It costs one
 * or two index probes per member and combined bucket, so it is read only when `devices` is asked for;
 * most members are decided by their newest event of the value key in device_state (written with each
 * history row, so of the same snapshot) without either: newest before the bucket, not a reporter;
 * newest inside it and a number, a reporter (decision 0085).
 *
 * LATERAL subqueries kept apart by OFFSET 0 (one primary-key range each whatever the estimates) and
 * history bounded by the noted minutes alone keep PostgreSQL on its generic plan (decision 0065).
 * Buckets leave as epoch milliseconds.
 */
const EPOCH = `TIMESTAMPTZ '1970-01-01 00:00:00+00'`;
const GROUP = 'tenant_id = $1 AND label = $2 AND label_value = $3';

const statement = (table: string, width: string, passThrough: boolean, withDevices: boolean): string => `
WITH tenant_noted AS (
  -- A minute is noted once per drain that wrote into it.
  SELECT DISTINCT bucket FROM aggregate_dirty WHERE tenant_id = $1 AND bucket >= $6::timestamptz AND bucket < $7::timestamptz
), group_noted AS (
  SELECT bucket FROM group_dirty
   WHERE ${GROUP} AND bucket >= $6::timestamptz AND bucket < $7::timestamptz
), members AS MATERIALIZED (
  -- The one pass over the members (decision 0085): every version of the value overlapping the buckets
  -- this read may combine (${passThrough || !withDevices ? 'those holding a noted minute, from the first one on; none when nothing is noted' : 'all of them: every 5m and 15m bucket is combined and counts its reporters'}),
  -- with its device's newest event (device_state: one primary-key probe, LIMIT 1 for a plain index scan),
  -- and the newest event carrying the value key: its time in epoch ms, rounded, and whether a number.
  -- Holds, the live part and reporters read it instead of probing device_state each.
  SELECT v.device, v.valid_from, v.valid_to, d.ts, d.t, d.numeric
    FROM (${
      passThrough || !withDevices
        ? `SELECT date_bin('${width}', min(bucket), ${EPOCH}) AS lo FROM (SELECT bucket FROM tenant_noted UNION ALL SELECT bucket FROM group_noted) n`
        : 'SELECT $6::timestamptz AS lo'
    }) r
   CROSS JOIN LATERAL (${groupVersionsIn('r.lo', '$7::timestamptz')} OFFSET 0) v
    LEFT JOIN LATERAL (
      SELECT ds.ts, (ds.state -> $4 ->> 't')::float8 AS t, jsonb_typeof(ds.state -> $4 -> 'v') = 'number' AS numeric
        FROM device_state ds WHERE ds.tenant_id = $1 AND ds.device = v.device LIMIT 1
    ) d ON true
), ${memberNotedFromMembers()}, dirty AS (
  SELECT bucket FROM member_noted
  UNION
  SELECT bucket FROM group_noted
), ${headedMinutes('$6::timestamptz', '$7::timestamptz')}, answered AS (
  -- Reads that may be stale ($8: their bound; NULL for strong reads and reads after a token) answer a
  -- headed minute as of its head, without its tail, while the head is within the bound (decision 0088):
  -- only the last noted minute of its output bucket, so the bucket holds exactly its events before
  -- \`through\` and its reporters are counted over the same span.
  -- Its reporters before \`through\` are kept with its head (migration 0023); a head a release that
  -- kept none moved does not answer.
  SELECT h.bucket, h.through
    FROM headed h
   WHERE h.through >= statement_timestamp() - $8::interval AND h.reporters_through = h.through
     AND NOT EXISTS (SELECT 1 FROM dirty d WHERE d.bucket > h.bucket AND d.bucket < date_bin($5::interval, h.bucket, ${EPOCH}) + $5::interval)
), held AS (
  SELECT DISTINCT date_bin('${width}', bucket, ${EPOCH}) AS bucket FROM dirty
), stored AS (
  SELECT r.bucket, r.count, r.sum, r.min, r.max, r.last, r.last_ts, r.devices
    FROM ${table} r
   WHERE r.tenant_id = $1 AND r.label = $2 AND r.label_value = $3 AND r.value_key = $4
     AND r.bucket >= $6::timestamptz AND r.bucket < $7::timestamptz
     AND NOT EXISTS (SELECT 1 FROM held h WHERE h.bucket = r.bucket)
), minutes AS (
  SELECT m.bucket, m.count, m.sum, m.min, m.max, m.last, m.last_ts
    FROM held c
   CROSS JOIN LATERAL (
     SELECT bucket, count, sum, min, max, last, last_ts FROM group_rollups_1m
      WHERE '${width}' <> '1 minute' AND ${GROUP} AND value_key = $4
        AND bucket >= c.bucket AND bucket < c.bucket + interval '${width}'
     OFFSET 0
   ) m
   WHERE NOT EXISTS (SELECT 1 FROM dirty d WHERE d.bucket = m.bucket)
), heads AS (
  SELECT h.bucket, h.count, h.sum, h.min, h.max, h.last, h.last_ts
    FROM headed x
    JOIN group_minute_heads h
      ON h.tenant_id = $1 AND h.label = $2 AND h.label_value = $3 AND h.value_key = $4 AND h.bucket = x.bucket
), runs AS (
  -- Consecutive noted minutes without a head as one range (gaps and islands), and each headed minute's
  -- tail after its head: each member costs one history probe per range instead of one per minute.
  SELECT min(bucket) AS lo, max(bucket) + interval '1 minute' AS hi
    FROM (SELECT bucket, bucket - row_number() OVER (ORDER BY bucket) * interval '1 minute' AS island
            FROM (SELECT bucket FROM dirty EXCEPT SELECT bucket FROM headed) w) d
   GROUP BY island
  UNION ALL
  SELECT through, bucket + interval '1 minute' FROM headed
   WHERE through < bucket + interval '1 minute' AND bucket NOT IN (SELECT bucket FROM answered)
), live AS (
  -- Members whose newest event is before a range have nothing in it (decision 0083).
  SELECT date_bin('1 minute', e.ts, ${EPOCH}) AS bucket, count(*) AS count, sum(e.v::numeric) AS sum, min(e.v::float8) AS min,
         max(e.v::float8) AS max, (array_agg(e.v::float8 ORDER BY e.ts DESC, e.v::float8 DESC))[1] AS last, max(e.ts) AS last_ts
    FROM runs r
    JOIN members m ON m.valid_to > r.lo AND m.valid_from < r.hi AND m.ts >= r.lo
   CROSS JOIN LATERAL (
     SELECT ts, "values" -> $4 AS v FROM tenant_events
      WHERE tenant_id = $1 AND device = m.device AND ts >= r.lo AND ts < r.hi AND ts >= m.valid_from AND ts < m.valid_to
     OFFSET 0
   ) e
   WHERE jsonb_typeof(e.v) = 'number'
   GROUP BY 1
), combined AS (
  SELECT date_bin($5::interval, bucket, ${EPOCH}) AS bucket, sum(count) AS count, sum(sum) AS sum, min(min) AS min, max(max) AS max,
         (array_agg(last ORDER BY last_ts DESC, last DESC))[1] AS last
    FROM (${passThrough ? '' : 'SELECT bucket, count, sum, min, max, last, last_ts FROM stored UNION ALL '}SELECT * FROM minutes UNION ALL SELECT * FROM heads UNION ALL SELECT * FROM live) parts
   GROUP BY 1
)${withDevices ? reportersPart : ''}
SELECT date_part('epoch', bucket) * 1000 AS ms, count::float8 AS count, ${numericToDouble('sum')} AS sum, min, max, last,
       ${averageOfWideSum('sum', 'count')} AS wide_avg, devices, NULL::float8 AS lag_ms
  FROM (${passThrough ? 'SELECT bucket, count, sum, min, max, last, devices FROM stored UNION ALL ' : ''}
        SELECT c.bucket, c.count, c.sum, c.min, c.max, c.last, ${withDevices ? 'coalesce(p.devices, 0)' : 'NULL::int'} AS devices
          FROM combined c${withDevices ? ' LEFT JOIN reporters p ON p.bucket = c.bucket' : ''}) answer
UNION ALL
-- When a head answered: how far behind the statement's clock the oldest such head leaves the answer,
-- as one row without a bucket (there may be no bucket to carry it).
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, date_part('epoch', statement_timestamp() - min(through)) * 1000
  FROM answered HAVING count(*) > 0
 ORDER BY ms NULLS LAST`;

const reportersPart = `, head_reporters AS (
  -- The members that reported in an answered head's span, by output bucket.
  SELECT date_bin($5::interval, a.bucket, ${EPOCH}) AS bucket, r.device
    FROM answered a
    JOIN group_minute_reporters r
      ON r.tenant_id = $1 AND r.label = $2 AND r.label_value = $3 AND r.value_key = $4 AND r.bucket = a.bucket
), reporters AS (
  SELECT c.bucket, count(DISTINCT m.device)::int AS devices
    FROM combined c
   CROSS JOIN LATERAL (
     -- Where the bucket's answer ends (its end, or an answered head's \`through\` inside it), and where
     -- the probes end (there, or that head's minute: its reporters before \`through\` are the head's).
     SELECT least(c.bucket + $5::interval, min(a.through)) AS hi, least(c.bucket + $5::interval, min(a.bucket)) AS probe_hi
       FROM answered a WHERE a.bucket >= c.bucket AND a.bucket < c.bucket + $5::interval
   ) x
    JOIN members m ON m.valid_to > c.bucket AND m.valid_from < c.bucket + $5::interval
   CROSS JOIN LATERAL (
     -- The window the member counts in, epoch ms.
     SELECT date_part('epoch', greatest(c.bucket, m.valid_from)) * 1000 AS lo_ms,
            date_part('epoch', least(x.hi, m.valid_to)) * 1000 AS hi_ms
   ) w
   -- The member's newest event of the value key before the window (a millisecond's margin for the
   -- rounding), or none at all: nothing in it. Newest inside it and a number: a reporter. One of an
   -- answered head's reporters: a reporter (a hashed lookup). Only the rest (newer events since, or a
   -- newest that is not a number) probe, and only where a window remains to probe.
   WHERE m.t >= w.lo_ms - 1
     AND ((m.numeric AND m.t >= w.lo_ms + 1 AND m.t < w.hi_ms - 1)
      OR (c.bucket, m.device) IN (SELECT bucket, device FROM head_reporters)
      OR (greatest(c.bucket, m.valid_from) + interval '1 minute' <= least(x.hi, m.valid_to) AND EXISTS (
           SELECT 1 FROM rollups_1m r
            WHERE r.tenant_id = $1 AND r.device = m.device AND r.value_key = $4
              AND r.bucket >= c.bucket AND r.bucket >= m.valid_from
              AND r.bucket + interval '1 minute' <= x.hi AND r.bucket + interval '1 minute' <= m.valid_to))
      OR (greatest(c.bucket, m.valid_from) < least(x.probe_hi, m.valid_to) AND EXISTS (
           SELECT 1 FROM tenant_events e
            WHERE e.tenant_id = $1 AND e.device = m.device
              AND e.ts >= c.bucket AND e.ts < x.probe_hi AND e.ts >= m.valid_from AND e.ts < m.valid_to
              AND jsonb_typeof(e."values" -> $4) = 'number')))
   GROUP BY c.bucket
)`;

/** Statements per interval (and whether `devices` is read), from a fixed list: table names never come from the request. */
const LEVELS: Record<string, [string, string, boolean]> = {
  '1 minute': ['group_rollups_1m', '1 minute', true],
  '5 minutes': ['group_rollups_1m', '1 minute', false],
  '15 minutes': ['group_rollups_1m', '1 minute', false],
  '1 hour': ['group_rollups_1h', '1 hour', true],
  '1 day': ['group_rollups_1d', '1 day', true],
};
const STATEMENTS = new Map<string, { name: string; text: string }>();
for (const [interval, [table, width, passThrough]] of Object.entries(LEVELS)) {
  for (const withDevices of [false, true]) {
    const name = `query-group-series-${interval.replace(' ', '-')}${withDevices ? '-devices' : ''}`;
    STATEMENTS.set(`${interval}|${withDevices}`, { name, text: statement(table, width, passThrough, withDevices) });
  }
}

/** A device series' bucket, and its distinct reporting members. */
export interface GroupSeriesBucketRow extends SeriesBucketRow {
  /** Distinct reporting members; null when not asked for (and a pass-through row's stored count otherwise). */
  devices: number | null;
}

export interface SelectGroupSeriesQuery {
  tenantId: string;
  label: string;
  labelValue: string;
  valueKey: string;
  /** A PostgreSQL interval, e.g. '5 minutes'. */
  interval: string;
  /** Bucket-aligned bounds, ISO-8601; from inclusive, to exclusive. */
  from: string;
  to: string;
  withDevices: boolean;
  /**
   * How stale the answer may be, ms: an open minute's head at most this old answers for the minute
   * (decision 0088). Undefined: exact up to the statement's snapshot (strong reads, reads after a token).
   */
  headStalenessMs: number | undefined;
}

export interface GroupSeriesBuckets {
  rows: GroupSeriesBucketRow[];
  /** How far behind the statement's clock a head left the answer, ms; undefined when none answered. */
  headLagMs: number | undefined;
}

export async function selectGroupSeriesBuckets(db: Queryable, query: SelectGroupSeriesQuery): Promise<GroupSeriesBuckets> {
  const statement = STATEMENTS.get(`${query.interval}|${query.withDevices}`);
  if (!statement) throw new Error(`no group rollup level for interval ${query.interval}`);
  const result = await db.query<GroupSeriesBucketRow & { lag_ms: number | null }>({
    name: statement.name,
    text: statement.text,
    values: [
      query.tenantId,
      query.label,
      query.labelValue,
      query.valueKey,
      query.interval,
      query.from,
      query.to,
      query.headStalenessMs === undefined ? null : `${query.headStalenessMs} milliseconds`,
    ],
  });
  const rows: GroupSeriesBucketRow[] = [];
  let headLagMs: number | undefined;
  for (const { lag_ms: lagMs, ...row } of result.rows) {
    if (lagMs === null) rows.push(row);
    else headLagMs = Math.max(0, lagMs);
  }
  return { rows, headLagMs };
}
