import type { Queryable } from '@strata/core';
import { memberSamples } from './group-minute-sql.ts';

/**
 * How far a head's watermark stays behind the refresher's clock, and behind the oldest event of the
 * drains that committed since the head last moved (the default of the GROUP_HEAD_LAG_MS setting). A
 * drain that commits after the head advanced with an event before the watermark makes the head useless
 * for its minute (reads go back to the whole minute for a while). The projector drains in about the
 * order events were accepted, so the drains just committed say how old the events still on their way
 * are: ~0.1–0.3 s beside the bench's steady ingest, several seconds while it catches up after a burst
 * (late by up to 3.6 s, measured, when the watermark followed the clock alone). Reads combine the
 * events after the watermark from history: a larger lag costs each read of an active group more rows.
 */
export const GROUP_HEAD_LAG_MS = 500;

/**
 * How long a given-up head waits before it starts again from the minute's first event. Late notes come
 * in bursts (the projector catching up after a burst of ingest: the bench's batch phase leaves ~10 s of
 * drains behind), and each start reads the minute so far: at most one such read per tenant and this
 * interval while ingest stays behind, and heads again within it once it has caught up.
 */
export const GROUP_HEAD_RETRY_MS = 5_000;

/** Devices of a tenant whose newest event is over a minute ahead of the clock past which its heads stand still. */
export const MAX_AHEAD_DEVICES = 1_000;

/**
 * Reporter rows a tenant's open minute keeps at most (decision 0088): past them its head stops
 * answering eventual reads (they read the tail instead), so a tenant of devices × labels × value keys
 * in the hundreds of thousands costs the shared refresher one count per round, not that many inserts.
 */
export const MAX_REPORTERS_PER_MINUTE = 100_000;

/*
 * Advances the heads of a tenant's open noted minutes (decision 0085, migration 0022): for each minute
 * that has notes and has not ended (or ended within the last minute and has a head: it goes on to the
 * minute's end), every group's aggregate of its events before `through`, so reads of
 * an active group combine only the events after it instead of the whole minute.
 *
 * One statement, so one snapshot: it decides from the minute's notes whether the head still stands,
 * adds the events in [old through, new through) that this snapshot sees, and records the new through
 * with this snapshot (pg_current_snapshot() is the statement's own). The new through is the refresher's
 * clock less the lag, or the lag before the oldest event the drains since the mark's snapshot brought
 * if that is earlier. Per minute:
 *  - no mark: start, with the minute's events before the new through;
 *  - a note the mark's snapshot did not see with an event before the mark's through (its drain
 *    committed after the head advanced past that event), or a note written without xid/first_ts: the
 *    head cannot say which of the minute's events it holds, so it is given up (through NULL, rows
 *    deleted) and reads combine the minute whole; it starts again GROUP_HEAD_RETRY_MS later (starting
 *    at once would rescan the minute every round exactly while ingest is behind);
 *  - otherwise: extend, adding the events of [through, new through). Every event of that range this
 *    snapshot sees is added once: a transaction the old snapshot did not see has all its events at or
 *    after the old through (else its note says so), and one it saw had them before the old through
 *    counted then.
 * Members as replace-group-minutes.ts finds them, but from device_state's (tenant, ts) index: a
 * device whose newest event is before a range has nothing in it. Work ∝ the range's events.
 */
const SQL = `
WITH open AS (
  -- The open minutes, and those that ended within the last minute and are not claimed yet: the heads
  -- of these go on to their minute's end (below), so that until the claim takes them reads add no
  -- tail of them (the claim of a busy minute takes seconds, and every read would probe every member
  -- meanwhile).
  SELECT DISTINCT bucket FROM aggregate_dirty
   WHERE tenant_id = $1 AND bucket > $2::timestamptz - interval '2 minutes' AND bucket <= $3::timestamptz
), marks AS (
  -- The new through: the clock less the lag, and the lag before the oldest event of the drains this
  -- minute's mark has not seen (its snapshot's later transactions: their notes of the open minutes).
  SELECT o.bucket,
         least(o.bucket + interval '1 minute', $3::timestamptz,
               coalesce((SELECT min(d.first_ts) FROM aggregate_dirty d
                          WHERE d.tenant_id = $1 AND d.bucket >= (SELECT min(bucket) FROM open)
                            AND NOT pg_visible_in_snapshot(d.xid, m.snap)) - $5::interval, 'infinity')) AS hi,
         CASE WHEN m.through IS NULL THEN o.bucket ELSE m.through END AS lo,
         m.reporters_through, m.reporters_through = m.through AS reporters_kept, coalesce(m.reporter_rows, 0) AS reporter_rows,
         -- An ended minute only finishes a head it has: starting one would read the whole minute.
         CASE WHEN o.bucket + interval '1 minute' <= $2::timestamptz AND (m.bucket IS NULL OR m.through IS NULL) THEN 'ended'
              WHEN m.bucket IS NULL THEN 'start'
              WHEN m.through IS NULL AND m.written <= $2::timestamptz - $4::interval THEN 'start'
              WHEN m.through IS NULL THEN 'given up'
              WHEN EXISTS (SELECT 1 FROM aggregate_dirty d
                            WHERE d.tenant_id = $1 AND d.bucket = o.bucket
                              AND (d.xid IS NULL OR d.first_ts IS NULL OR (d.first_ts < m.through AND NOT pg_visible_in_snapshot(d.xid, m.snap))))
                THEN 'late'
              ELSE 'extend' END AS step
    FROM open o
    LEFT JOIN group_minute_marks m ON m.tenant_id = $1 AND m.bucket = o.bucket
), ahead AS (
  -- Devices whose newest event is more than a minute ahead of the clock (a device clock set wrong, or
  -- events stamped up to MAX_FUTURE_SKEW_MS ahead): their newest time says nothing of the range, so
  -- each would be probed every round until then. Past ${MAX_AHEAD_DEVICES} the heads stand still (reads
  -- combine the tail from history, exactly) rather than make every round of this refresher, which
  -- other tenants wait for, cost that (hostile review: 20,000 such devices, 4.6 → 103 ms a round).
  SELECT ds.device FROM device_state ds
   WHERE ds.tenant_id = $1 AND ds.ts >= $2::timestamptz + interval '1 minute'
   LIMIT ${MAX_AHEAD_DEVICES + 1}
), capped AS (
  SELECT count(*) > ${MAX_AHEAD_DEVICES} AS capped FROM ahead
), ranges AS (
  SELECT bucket, lo, hi FROM marks WHERE step IN ('start', 'extend') AND lo < hi AND NOT (SELECT capped FROM capped)
), active AS (
  -- The devices with an event since the range began, by device_state's (tenant, ts) index. Skipped
  -- outright for a tenant without any label version (a one-time filter).
  SELECT ds.device
    FROM device_state ds
   WHERE ds.tenant_id = $1 AND ds.ts >= (SELECT min(lo) FROM ranges) AND ds.ts < $2::timestamptz + interval '1 minute'
     AND EXISTS (SELECT 1 FROM label_versions WHERE tenant_id = $1)
  UNION ALL
  SELECT device FROM ahead
   WHERE EXISTS (SELECT 1 FROM ranges) AND EXISTS (SELECT 1 FROM label_versions WHERE tenant_id = $1)
), ${memberSamples()}, fresh AS (
  SELECT label, label_value, value_key, bucket, count(*) AS count, sum(n) AS sum, min(f) AS min, max(f) AS max,
         (array_agg(f ORDER BY ts DESC, f DESC))[1] AS last, max(ts) AS last_ts
    FROM samples
   GROUP BY 1, 2, 3, 4
), added AS (
  -- Heads add up: the new range's events are disjoint from those already counted. last: the newest
  -- event, the larger value on a tie (as every level).
  INSERT INTO group_minute_heads AS h (tenant_id, label, label_value, value_key, bucket, count, sum, min, max, last, last_ts)
  SELECT $1, label, label_value, value_key, bucket, count, sum, min, max, last, last_ts FROM fresh ORDER BY 2, 3, 4, 5
  ON CONFLICT (tenant_id, label, label_value, value_key, bucket) DO UPDATE SET
    count = h.count + excluded.count, sum = h.sum + excluded.sum,
    min = least(h.min, excluded.min), max = greatest(h.max, excluded.max),
    last = CASE WHEN (excluded.last_ts, excluded.last) > (h.last_ts, h.last) THEN excluded.last ELSE h.last END,
    last_ts = greatest(h.last_ts, excluded.last_ts)
  RETURNING 1
), range_reporters AS (
  -- The members that reported in the range, per group and value key (decision 0088).
  SELECT DISTINCT label, label_value, value_key, bucket, device FROM samples
), keeps AS (
  -- Whether a minute keeps its reporters: it did so up to its through (or starts now), and the rows it
  -- holds plus this range's stay within the cap ($6). Past it, the minute stops keeping them and its
  -- head no longer answers reads (they read the tail): a tenant of many devices × labels × value keys
  -- would otherwise write that product per minute in every round of the shared refresher (hostile
  -- review: 320,000 rows in one round, 5 s). The range's rows may repeat rows already kept, so the
  -- check errs by at most one range, never accumulating.
  SELECT bucket, held_rows,
         coalesce(kept AND held_rows + (SELECT count(*) FROM range_reporters f WHERE f.bucket = k.bucket) <= $6, false) AS keep
    FROM (SELECT k.bucket, k.step = 'start' OR k.reporters_kept AS kept,
                 CASE WHEN k.step = 'start' THEN 0 ELSE k.reporter_rows END AS held_rows
            FROM marks k JOIN ranges r ON r.bucket = k.bucket) k
), reported AS (
  -- Once per minute: a device already there from an earlier range is left as it is.
  INSERT INTO group_minute_reporters (tenant_id, label, label_value, value_key, bucket, device)
  SELECT $1::uuid, f.label, f.label_value, f.value_key, f.bucket, f.device
    FROM range_reporters f JOIN keeps k ON k.bucket = f.bucket AND k.keep
   ORDER BY 2, 3, 4, 5, 6
  ON CONFLICT DO NOTHING
  RETURNING bucket
), dropped AS (
  DELETE FROM group_minute_heads h USING marks m
   WHERE m.step = 'late' AND h.tenant_id = $1 AND h.bucket = m.bucket
), dropped_reporters AS (
  DELETE FROM group_minute_reporters r USING marks m
   WHERE m.step = 'late' AND r.tenant_id = $1 AND r.bucket = m.bucket
), marked AS (
  -- An extend that cannot move (a drain since the last snapshot brought events within the lag of the
  -- head, or too many devices ahead) still takes this snapshot: every note it sees that the old one
  -- did not has all its events at or after \`through\` (else the step is 'late'), so the head holds the
  -- same events under it; the next round then judges only drains after this one (hostile review: a
  -- single such drain held a head at +20 s for the rest of its minute).
  -- reporters_through follows through while every range added its reporters (keeps): from a start, or
  -- from a mark whose reporters were kept up to its through (not one an older release moved, nor one
  -- past the cap); reporter_rows counts the rows kept.
  INSERT INTO group_minute_marks AS m (tenant_id, bucket, through, snap, written, reporters_through, reporter_rows)
  SELECT $1, k.bucket, CASE WHEN k.step = 'late' THEN NULL WHEN r.bucket IS NOT NULL THEN r.hi ELSE k.lo END, pg_current_snapshot(), $2::timestamptz,
         CASE WHEN k.step = 'late' THEN NULL
              WHEN r.bucket IS NOT NULL THEN CASE WHEN c.keep THEN r.hi END
              ELSE k.reporters_through END,
         CASE WHEN k.step = 'late' THEN 0
              WHEN r.bucket IS NOT NULL THEN c.held_rows + (SELECT count(*) FROM reported p WHERE p.bucket = k.bucket)
              ELSE k.reporter_rows END
    FROM marks k
    LEFT JOIN ranges r ON r.bucket = k.bucket
    LEFT JOIN keeps c ON c.bucket = k.bucket
   WHERE k.step IN ('late', 'extend') OR r.bucket IS NOT NULL
  ON CONFLICT (tenant_id, bucket) DO UPDATE
    SET through = excluded.through, snap = excluded.snap, written = excluded.written,
        reporters_through = excluded.reporters_through, reporter_rows = excluded.reporter_rows
)
SELECT (SELECT count(*) FROM ranges)::int AS advanced,
       count(*) FILTER (WHERE step = 'late')::int AS given_up,
       count(*) FILTER (WHERE step IN ('start', 'extend') AND lo < hi AND (SELECT capped FROM capped))::int AS held,
       (SELECT count(*) FROM added)::int AS heads
  FROM marks`;

export interface AdvanceGroupHeadsQuery {
  tenantId: string;
  /** The refresher's clock (epoch ms): minutes that ended by then are the claim's, not heads'. */
  now: number;
  /** The new watermark's lag behind `now` (config groupHeadLagMs); GROUP_HEAD_LAG_MS unless said. */
  lagMs?: number;
  /**
   * Epoch ms the new watermark never passes: the instant waitForLabelWrites returned (decision 0115),
   * after which every label write not in this statement's snapshot starts its change.
   */
  throughAtMost?: number;
  /** How long a given-up head waits; GROUP_HEAD_RETRY_MS unless a test says. */
  retryMs?: number;
  /** MAX_REPORTERS_PER_MINUTE unless a test says. */
  maxReportersPerMinute?: number;
}

export interface AdvancedHeads {
  /** Minutes whose heads started or moved forward. */
  advanced: number;
  /** Minutes whose heads were given up this time (a late note). */
  givenUp: number;
  /** Minutes whose heads could have moved but stood still (too many devices ahead of the clock). */
  held: number;
  /** Group head rows written. */
  heads: number;
}

export async function advanceGroupHeads(db: Queryable, query: AdvanceGroupHeadsQuery): Promise<AdvancedHeads> {
  const upto = Math.min(query.now - (query.lagMs ?? GROUP_HEAD_LAG_MS), query.throughAtMost ?? Number.POSITIVE_INFINITY);
  const result = await db.query<{ advanced: number; given_up: number; held: number; heads: number }>({
    name: 'advance-group-heads',
    text: SQL,
    values: [
      query.tenantId,
      new Date(query.now).toISOString(),
      new Date(upto).toISOString(),
      `${query.retryMs ?? GROUP_HEAD_RETRY_MS} milliseconds`,
      `${query.lagMs ?? GROUP_HEAD_LAG_MS} milliseconds`,
      query.maxReportersPerMinute ?? MAX_REPORTERS_PER_MINUTE,
    ],
  });
  const row = result.rows[0] ?? { advanced: 0, given_up: 0, held: 0, heads: 0 };
  return { advanced: row.advanced, givenUp: row.given_up, held: row.held, heads: row.heads };
}
