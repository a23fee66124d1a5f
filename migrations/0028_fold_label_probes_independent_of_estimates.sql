-- Up Migration
-- The label fold's look-ups of label_versions, planned so that stale statistics cannot make them scan
-- the tenant's versions once per key (decision 0111). ops' churned-table vacuum counts label_versions
-- every few seconds, also while a refresher transaction holds thousands of versions it has inserted
-- and not committed: it then records 0 rows in 144 pages, and until the next count the planner takes
-- the table for empty however many rows it holds (measured on the bench's line-protocol minute,
-- 2026-12-02: 10,000 devices' first sight).

-- One sample's statements are each a look-up of one (tenant, device, label) by the primary key. Their
-- plans are PL/pgSQL's cached ones, made at the first calls of a session: on a table counted or found
-- empty, a sequential scan (and a sort for the newest version), which then read every version folded
-- before it: 10,000 first sights of a claim took 7.2 s (0.72 ms each, growing with the table) instead of
-- 0.5 s. With sequential scans off the planner takes the primary key whatever it believes the size.
ALTER FUNCTION fold_label_sample(uuid, text, text, timestamptz, text, "char") SET enable_seqscan = off;

-- As migration 0021's, but `bumped` (a run equal to the version in force moves its last_sample) finds
-- its rows by the ctid the `placed` probe read, in one TID scan, and joins nothing: as a join of the
-- versions with the runs, a table believed empty put label_versions outside a nested loop that read
-- the runs again for each of the tenant's versions, 10,000 × 5,000 rows, 17 s of one fold. A version
-- with several equal runs gets the newest of their last samples (one entry per ctid in `at`). With
-- sequential scans off, the TID scan and the probes' primary key are what the planner takes.
--
-- And a correction (the hostile review of this migration, a differential fuzzer): only the first run
-- of a (device, label) in the batch is settled ('equal') or cut to its ends ('ends'). Every run is
-- judged on the state before the batch, but the fold then folds the runs in time order: a later run's
-- 'equal' moved the last_sample of a version an earlier run then split, the split took the version's
-- value back from history (label_sample_after) inside the earlier run, and the samples 'ends' had
-- dropped from that run were missing. Samples b@67 | a@95 a@204 a@221 b@239 | b@177 (all in history,
-- three batches) stored 'b' over [177, 221) where the definition gives 'a' from 204. The first run's
-- verdict holds whatever the later runs do, since they all lie after its last sample; the later runs
-- are folded sample by sample, and settled by the next collapse once they are a key's first run. The
-- refresher's statement (decision 0109) passes only keys of one run as their ends: their first.
-- Likewise 'ends' holds only where the run's first sample takes the value at its instant: it loses a
-- tie with the version's start when not larger, and a tie with a sample of the version's value at the
-- same instant in history (fold_label_sample's own tests). Samples a@161 a@257 a@284 after b@160 with
-- b@161 in history stored 'b' up to 284: a@161 lost to b@161, and a@257 had been dropped.

CREATE OR REPLACE FUNCTION collapse_label_samples(tenant uuid, batch label_sample[]) RETURNS label_sample[]
LANGUAGE sql SET enable_seqscan = off AS $$
  WITH ordered AS (
    SELECT b.*, CASE WHEN b.origin = 'e' AND lag(b.origin) OVER w = 'e' AND lag(b.value) OVER w = b.value THEN 0 ELSE 1 END AS starts
      FROM unnest(batch) b
    WINDOW w AS (PARTITION BY b.device, b.label ORDER BY b.ts, b.value COLLATE "C", b.origin)
  ), numbered AS (
    SELECT o.*, sum(o.starts) OVER (PARTITION BY o.device, o.label ORDER BY o.ts, o.value COLLATE "C", o.origin
                                    ROWS UNBOUNDED PRECEDING) AS run
      FROM ordered o
  ), runs AS (
    SELECT n.device, n.label, n.run, min(n.ts) AS first_ts, max(n.ts) AS last_ts, min(n.value) AS value,
           min(n.origin) AS origin
      FROM numbered n GROUP BY n.device, n.label, n.run
  ), placed AS (
    SELECT r.*, v.tid, v.valid_from, v.value AS in_force, v.last_sample, coalesce(nxt.valid_from, 'infinity') AS next_start,
           CASE WHEN r.origin = 'e' AND r.run = 1 AND coalesce(nxt.valid_from, 'infinity') > r.last_ts THEN
                  CASE WHEN v.value = r.value THEN 'equal'
                       WHEN v.valid_from IS NULL
                         OR (v.last_sample <= r.first_ts
                             AND (label_sample_wins(r.value, v.value)
                                  OR (v.valid_from < r.first_ts
                                      AND label_sample_after(tenant, r.device, r.label, v.value, r.first_ts - interval '1 microsecond',
                                                             r.first_ts, NULL) IS NULL))) THEN 'ends' END
           END AS kind
      FROM runs r
      LEFT JOIN LATERAL (SELECT lv.ctid AS tid, lv.valid_from, lv.value, lv.last_sample FROM label_versions lv
                          WHERE lv.tenant_id = tenant AND lv.device = r.device AND lv.label = r.label AND lv.valid_from <= r.first_ts
                          ORDER BY lv.valid_from DESC LIMIT 1) v ON true
      LEFT JOIN LATERAL (SELECT lv.valid_from FROM label_versions lv
                          WHERE lv.tenant_id = tenant AND lv.device = r.device AND lv.label = r.label AND lv.valid_from > r.first_ts
                          ORDER BY lv.valid_from LIMIT 1) nxt ON true
  ), bumps AS MATERIALIZED (
    SELECT p.tid, max(p.last_ts) AS ts FROM placed p WHERE p.kind = 'equal' GROUP BY p.tid
  ), bump_to AS MATERIALIZED (
    -- One value, read as an InitPlan (computed once) where the update needs it.
    SELECT coalesce(jsonb_object_agg(tid::text, ts), '{}') AS at FROM bumps
  ), bumped AS (
    -- The ctids come from the probe above, of this tenant's rows, in this statement's snapshot; no
    -- other condition, so that the TID scan is the only way to them besides a sequential scan.
    UPDATE label_versions lv SET last_sample = ((SELECT at FROM bump_to) ->> lv.ctid::text)::timestamptz
     WHERE lv.ctid = ANY (ARRAY(SELECT tid FROM bumps))
       AND lv.last_sample < ((SELECT at FROM bump_to) ->> lv.ctid::text)::timestamptz
  ), kept AS MATERIALIZED (
    -- Each sample with its run's verdict: a full join filtered after it (decision 0095), as the batch
    -- is sized by a guess (unnest of a parameter) and an inner join could run as a nested loop.
    -- Every sample's run is in placed, so the full join holds exactly the inner join's rows.
    SELECT n.device, n.label, n.ts, n.value, n.origin, p.kind, p.first_ts, p.last_ts
      FROM numbered n FULL JOIN placed p ON p.device = n.device AND p.label = n.label AND p.run = n.run
  )
  SELECT coalesce(array_agg(ROW(k.device, k.label, k.ts, k.value, k.origin)::label_sample), '{}')
    FROM kept k
   WHERE k.ts IS NOT NULL AND (k.kind IS NULL OR (k.kind = 'ends' AND k.ts IN (k.first_ts, k.last_ts)))
$$;
