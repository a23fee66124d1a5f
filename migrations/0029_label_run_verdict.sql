-- Up Migration
-- Whether a run of one (device, label) may be settled or cut to its ends, decided in one place
-- (decision 0112). The rule was written twice, in collapse_label_samples (migration 0028) and in the
-- refresher's pre-reduction of a claimed minute (fold-claimed-label-samples.ts, decision 0109), and each
-- correction had to be made in both: the pre-reduction passes a key as its two ends only where collapse
-- would keep only those two, so the two copies had to agree exactly.
--
-- A run is the batch's samples of one value of one key between which no other value comes. Given the
-- version in force at the run's first sample (its start, value and last sample; all NULL where none)
-- and the start of the next version after that first sample (NULL where none), on the state before
-- the batch:
--   'equal': the version in force holds the run's value and no later version starts inside the run;
--            the run only moves that version's last_sample.
--   'ends':  no later version starts inside the run, and the run's first sample takes the value at its
--            instant: no version in force, or none of its samples after the run's first, and the first
--            wins a tie with the version's start (label_sample_wins) or the version started earlier and
--            history holds no sample of the version's value at that same instant. Only the run's first
--            and last sample then matter.
--   NULL:    anything else: every sample of the run is folded one by one.
-- Only a key's first run in a batch may use the verdict (migration 0028's correction): later runs lie
-- after a change the fold itself makes. The callers check that.
-- A plain expression of its arguments, so that the planner inlines it where it is called (no SET clause,
-- no sub-query of its own; label_sample_after is a call, as before).
CREATE FUNCTION label_run_verdict(tenant uuid, dev text, lab text, val text, first_ts timestamptz, last_ts timestamptz,
                                  in_force_from timestamptz, in_force text, in_force_last timestamptz,
                                  next_start timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN coalesce(next_start, 'infinity') > last_ts THEN
           CASE WHEN in_force = val THEN 'equal'
                WHEN in_force_from IS NULL
                  OR (in_force_last <= first_ts
                      AND (label_sample_wins(val, in_force)
                           OR (in_force_from < first_ts
                               AND label_sample_after(tenant, dev, lab, in_force, first_ts - interval '1 microsecond',
                                                      first_ts, NULL) IS NULL))) THEN 'ends'
           END
         END
$$;

-- As migration 0028's, with the verdict above in place of its copy of the rule.
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
    SELECT r.*, v.tid,
           CASE WHEN r.origin = 'e' AND r.run = 1 THEN
                  label_run_verdict(tenant, r.device, r.label, r.value, r.first_ts, r.last_ts,
                                    v.valid_from, v.value, v.last_sample, nxt.valid_from)
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
