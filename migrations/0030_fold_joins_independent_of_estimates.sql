-- Up Migration
-- fold_label_samples (migration 0021) with its joins planned the same whatever the statistics of
-- label_versions say (decision 0115; as 0111 did for the fold's per-sample look-ups). Beside the
-- bench's other phases the planner took the tenant's versions for a handful of rows, estimated the
-- changes' segments at one, and joined each segment to the new versions in a nested loop: 10,000
-- first sights compared 100 million pairs, 17–20 s of a fold that takes 2–2.5 s otherwise, all of it
-- under the tenant's label versions lock (auto_explain, `pnpm bench --runs 1`, 2026-12-03 10:58).
-- Now: the versions before and after the fold are read by primary key per touched (device, label)
-- (LATERAL, OFFSET 0), never by a scan of the tenant's versions, and each segment meets its key's
-- versions in a full join (hashed or merged, never nested), whose rows per key are its segments times
-- its versions since the key's first sample: a few. The result is the same rows as before.

CREATE OR REPLACE FUNCTION fold_label_samples(tenant uuid, batch label_sample[])
RETURNS TABLE (device text, label text, old_value text, new_value text, lo timestamptz, hi timestamptz)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  touched label_sample[];
  prior label_versions[];
  rest label_sample[];
  one label_sample;
BEGIN
  -- Callers take this lock first (command-api under its lock_timeout, the refresher waiting for it just
  -- before its fold, decision 0115), so it is theirs already and this is a re-entrant no-op; it is taken
  -- here too so that no caller can ever fold a tenant's versions without it.
  PERFORM pg_advisory_xact_lock(60060, hashtext(tenant::text));
  IF EXISTS (SELECT 1 FROM unnest(batch) b
              WHERE b.device IS NULL OR b.label IS NULL OR b.ts IS NULL OR NOT isfinite(b.ts)
                 OR b.origin IS NULL OR b.origin NOT IN ('e', 'a') OR (b.origin = 'e' AND b.value IS NULL)) THEN
    RAISE EXCEPTION 'fold_label_samples: every sample needs a device, a label, a finite ts, origin "e" or "a", and a value if "e"'
      USING ERRCODE = '22023';
  END IF;
  -- Collapsing changes no value and no version boundary (last_sample only), so the state before the
  -- changes is taken after it, for the (device, label)s left to fold: the others cannot change.
  rest := collapse_label_samples(tenant, batch);
  -- Each (device, label) left with its earliest sample: nothing before it can change.
  touched := ARRAY(SELECT ROW(r.device, r.label, min(r.ts), NULL, NULL)::label_sample FROM unnest(rest) r GROUP BY r.device, r.label);
  SELECT coalesce(array_agg(lv.v), '{}') INTO prior
    FROM unnest(touched) k
   CROSS JOIN LATERAL (SELECT v FROM label_versions v
                        WHERE v.tenant_id = tenant AND v.device = k.device AND v.label = k.label AND v.valid_to > k.ts
                       OFFSET 0) lv;

  -- The rest in rounds: the earliest sample of each (device, label) is folded on its own, then the
  -- others equal to the value they now land in move last_sample set-wise (collapse again). Every
  -- round is one of the orders the result does not depend on.
  WHILE cardinality(rest) > 0 LOOP
    FOR one IN SELECT DISTINCT ON (r.device, r.label) r.* FROM unnest(rest) r
                ORDER BY r.device, r.label, r.ts, r.value COLLATE "C", r.origin LOOP
      PERFORM fold_label_sample(tenant, one.device, one.label, one.ts, one.value, one.origin);
    END LOOP;
    rest := ARRAY(SELECT ROW(r.device, r.label, r.ts, r.value, r.origin)::label_sample
                    FROM (SELECT x.*, row_number() OVER (PARTITION BY x.device, x.label
                                                         ORDER BY x.ts, x.value COLLATE "C", x.origin) AS n
                            FROM unnest(rest) x) r
                   WHERE r.n > 1);
    IF cardinality(rest) > 0 THEN rest := collapse_label_samples(tenant, rest); END IF;
  END LOOP;

  RETURN QUERY
  WITH keys AS (
    SELECT k.device, k.label, k.ts AS since FROM unnest(touched) k
  ), old AS (
    SELECT o.device, o.label, o.valid_from, o.valid_to, o.value FROM unnest(prior) o
  ), new AS (
    SELECT lv.device, lv.label, lv.valid_from, lv.valid_to, lv.value
      FROM keys k
     CROSS JOIN LATERAL (SELECT v.device, v.label, v.valid_from, v.valid_to, v.value FROM label_versions v
                          WHERE v.tenant_id = tenant AND v.device = k.device AND v.label = k.label AND v.valid_to > k.since
                         OFFSET 0) lv
  ), points AS (
    SELECT k.device, k.label, k.since AS at FROM keys k
    UNION SELECT o.device, o.label, o.valid_from FROM old o UNION SELECT o.device, o.label, o.valid_to FROM old o
    UNION SELECT n.device, n.label, n.valid_from FROM new n UNION SELECT n.device, n.label, n.valid_to FROM new n
  ), segments AS (
    SELECT p.device, p.label, p.at AS lo, lead(p.at) OVER (PARTITION BY p.device, p.label ORDER BY p.at) AS hi
      FROM points p JOIN keys k ON k.device = p.device AND k.label = p.label AND p.at >= k.since
  ), paired AS MATERIALIZED (
    -- Each segment beside every old and new version of its (device, label), in full joins: a full join
    -- is hashed or merged, never a nested loop, whatever the estimates (decision 0095), and filtered
    -- only outside this CTE, so that the planner cannot reduce it to an outer join it may nest.
    SELECT s.device, s.label, s.lo, s.hi, x.valid_from, x.valid_to, x.value, x.side
      FROM (SELECT * FROM segments WHERE hi IS NOT NULL) s
      FULL JOIN (SELECT o.device, o.label, o.valid_from, o.valid_to, o.value, 'o' AS side FROM old o
                 UNION ALL
                 SELECT n.device, n.label, n.valid_from, n.valid_to, n.value, 'n' FROM new n) x
        ON x.device = s.device AND x.label = s.label
  ), changed AS (
    -- The old and the new value in force at each segment's start (NULL: absent, or no version there).
    SELECT p.device, p.label, p.lo, p.hi,
           (array_agg(p.value) FILTER (WHERE p.side = 'o' AND p.valid_from <= p.lo AND p.lo < p.valid_to))[1] AS old_value,
           (array_agg(p.value) FILTER (WHERE p.side = 'n' AND p.valid_from <= p.lo AND p.lo < p.valid_to))[1] AS new_value
      FROM paired p
     WHERE p.lo IS NOT NULL
     GROUP BY p.device, p.label, p.lo, p.hi
  ), flagged AS (
    SELECT c.*, CASE WHEN lag(c.hi) OVER w = c.lo AND lag(c.old_value) OVER w IS NOT DISTINCT FROM c.old_value
                          AND lag(c.new_value) OVER w IS NOT DISTINCT FROM c.new_value THEN 0 ELSE 1 END AS starts
      FROM changed c WHERE c.old_value IS DISTINCT FROM c.new_value
    WINDOW w AS (PARTITION BY c.device, c.label ORDER BY c.lo)
  ), islands AS (
    SELECT f.*, sum(f.starts) OVER (PARTITION BY f.device, f.label ORDER BY f.lo) AS island FROM flagged f
  )
  SELECT i.device, i.label, i.old_value, i.new_value, min(i.lo), max(i.hi)
    FROM islands i GROUP BY i.device, i.label, i.island, i.old_value, i.new_value
   ORDER BY i.device, i.label, min(i.lo);
END;
$$;
