/*
 * The members of the group ($1 tenant, $2 label, $3 value) over a range [lo, hi), as SQL text spliced
 * into the group reads' statements (select-group-series-buckets.ts, select-group-total.ts; `lo` and
 * `hi` are SQL expressions of the statement, never input): one row per version of the label value
 * overlapping the range, with its device and validity.
 */

/** Every version of the value overlapping [lo, hi). */
export function groupVersionsIn(lo: string, hi: string): string {
  return `SELECT v.device, v.valid_from, v.valid_to
      FROM label_versions v
     WHERE v.tenant_id = $1 AND v.label = $2 AND v.value = $3 AND v.valid_to > ${lo} AND v.valid_from < ${hi}`;
}

/**
 * The versions whose device may hold events in [lo, hi): a member whose newest event time
 * (device_state.ts, which the projection raises in the transaction that inserts each history row, and
 * never lowers) is before `lo` has none there, and is left out by one primary-key probe (LIMIT 1) of
 * device_state instead of a probe of every partition of history. A group's live edge is its tenant's
 * noted minutes, so without this every read of a bucket holding them probed all members' history even
 * when, as usual for most members, they sent nothing then (decision 0083). A device labelled but never
 * heard from has no state row and no history, and drops out as well.
 */
export function groupMembersWithEventsIn(lo: string, hi: string): string {
  return `${groupVersionsIn(lo, hi)}
       AND (SELECT ds.ts FROM device_state ds WHERE ds.tenant_id = $1 AND ds.device = v.device LIMIT 1) >= ${lo}`;
}

/**
 * CTEs ending in `member_noted`: the tenant's noted minutes (aggregate_dirty rows matching `range`, a
 * condition on `bucket` over the statement's own parameters) in which a member of the group may hold
 * events. A tenant note says some device of the tenant sent events into the minute; when every member
 * whose version overlaps the noted minutes has its newest event (device_state.ts) before the minute, no
 * member has an event there now, nor had one at the minute's last refresh (history only grows, and a
 * membership change notes the group's minutes in group_dirty; retention keeps versions overlapping a
 * noted minute), so the group's stored rows of that minute, and of the hour and day holding it (the
 * refresher rewrites them in the same transaction as the minutes below), are exact as they are: the
 * minute need not hold its bucket nor be combined live. Without this, any ingest of the tenant held
 * every group's current hour and day and combined them from every member (decision 0084).
 *
 * One pass over the members whatever the number of noted minutes: the newest event of any member
 * whose version overlaps the span from the first noted minute to the last, one primary-key probe of
 * device_state each (LATERAL … LIMIT 1: never a scan of every tenant's states, and a plain index scan
 * where OFFSET 0 got a bitmap heap scan at twice the cost: 3.4 against 7.6 ms for 1,000 members),
 * then one comparison per noted minute. Per run of minutes it would be runs × members probes, which scattered late events
 * make thousands (hostile review); the span can only hold more minutes, never fewer.
 */
export function memberNotedMinutes(range: string): string {
  return `tenant_noted AS (
  -- A minute is noted once per drain that wrote into it.
  SELECT DISTINCT bucket FROM aggregate_dirty WHERE tenant_id = $1 AND ${range}
), member_noted AS (
  -- The newest member event as an uncorrelated scalar subquery: computed once (an InitPlan), where a
  -- joined subquery was planned as the inner side of a nested loop and ran once per noted minute.
  SELECT t.bucket
    FROM tenant_noted t
   WHERE t.bucket <= (
     SELECT max(d.ts)
       FROM (SELECT min(bucket) AS lo, max(bucket) + interval '1 minute' AS hi FROM tenant_noted) r
      CROSS JOIN LATERAL (${groupVersionsIn('r.lo', 'r.hi')} OFFSET 0) v
      CROSS JOIN LATERAL (SELECT ds.ts FROM device_state ds WHERE ds.tenant_id = $1 AND ds.device = v.device LIMIT 1) d)
)`;
}

/**
 * CTE `member_noted` as memberNotedMinutes defines it, after `tenant_noted` and a CTE `members` (device,
 * valid_from, valid_to, ts: the device's newest event) holding at least every version overlapping the
 * noted span, read once for the whole statement (select-group-series-buckets.ts) instead of probing
 * device_state again here.
 */
export function memberNotedFromMembers(): string {
  return `member_noted AS (
  SELECT t.bucket
    FROM tenant_noted t
   WHERE t.bucket <= (
     SELECT max(m.ts)
       FROM (SELECT min(bucket) AS lo, max(bucket) + interval '1 minute' AS hi FROM tenant_noted) r
       JOIN members m ON m.valid_to > r.lo AND m.valid_from < r.hi)
)`;
}

/**
 * CTE `headed` (bucket, through, reporters_through: see migration 0023), after `member_noted` and `group_noted` (this group's group_dirty
 * minutes) in [lo, hi): the group's noted minutes a head answers up to `through` (decision 0085,
 * migration 0022). The refresher keeps, for an open noted minute, every group's aggregate of the
 * minute's events before `through` as its snapshot `snap` saw them; the rest of the minute is the
 * tail, [through, minute end), read from history. The head stands only if every note of the minute
 * either was seen by `snap` (its events before `through` are in the head) or has all its events at or
 * after `through` (they are in the tail); a note from a drain that committed later with an earlier
 * event, or one that does not say (no xid or first_ts), leaves the minute whole. A label change of
 * this group (group_noted) re-attributed the minute's events: whole as well. A head given up has
 * through NULL.
 */
export function headedMinutes(lo: string, hi: string): string {
  return `headed AS (
  SELECT m.bucket, m.through, m.reporters_through
    FROM group_minute_marks m
   WHERE m.tenant_id = $1 AND m.bucket >= ${lo} AND m.bucket < ${hi} AND m.through IS NOT NULL
     AND m.bucket IN (SELECT bucket FROM member_noted)
     AND m.bucket NOT IN (SELECT bucket FROM group_noted)
     AND NOT EXISTS (
       SELECT 1 FROM aggregate_dirty d
        WHERE d.tenant_id = $1 AND d.bucket = m.bucket
          AND (d.xid IS NULL OR d.first_ts IS NULL OR (d.first_ts < m.through AND NOT pg_visible_in_snapshot(d.xid, m.snap))))
)`;
}
