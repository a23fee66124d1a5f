-- Up Migration
-- Folding label samples into label_versions (decision 0074), one function for both writers: command-api's
-- PUT/PATCH (origin 'a', at now) and the refresher (origin 'e', the labels of history rows of claimed
-- minutes). The caller holds the tenant's aggregate lock, pg_advisory_xact_lock(60060, hashtext(tenant)),
-- the refresher's class (projector lock-tenant-aggregates.ts): one writer of a tenant's versions at a time
-- (the function takes it again, re-entrantly, so a caller that forgot still serializes).
--
-- The definition: a label's value at t is that of its newest sample at or before t; equal times: the
-- larger text in byte order (COLLATE "C") wins, absent (NULL, only from the API) the smallest.
--
-- The stored state is always exactly that definition applied to a set F of samples: every sample folded
-- so far, plus possibly some of the events' samples already in history but not yet folded (the look-ups
-- below see history, folded or not). Adding a history sample early is harmless: it is a real sample and
-- will be folded later, when it changes nothing. So the result after folding everything does not depend
-- on the order or the batching (the property test folds random orders and batches against the definition).
-- Invariants of one (tenant, device, label): versions are contiguous from the first start to infinity;
-- a start is a sample of F (a winning one); inside a version every sample of F has the version's value
-- (a loser of a tie aside) and last_sample is the newest; API samples are starts only (they are in no
-- history), so the samples of F strictly inside a version are all in history, found by (tenant, device,
-- ts) ranges of the events primary key.

-- Whether a candidate value beats the current one at an equal time.
CREATE FUNCTION label_sample_wins(candidate text, current text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT candidate IS NOT NULL AND (current IS NULL OR candidate COLLATE "C" > current COLLATE "C")
$$;

-- The first event sample of `val` in (after, through], or `otherwise`: where a split version's value
-- resumes. NULL never occurs in history (events carry strings), so an absent version has none inside.
CREATE FUNCTION label_sample_after(tenant uuid, dev text, lab text, val text, after timestamptz,
                                   through timestamptz, otherwise timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT e.ts FROM events e
                    WHERE e.tenant_id = tenant AND e.device = dev AND e.ts > after AND e.ts <= through
                      AND val IS NOT NULL AND e.labels ->> lab = val
                    ORDER BY e.ts LIMIT 1), otherwise)
$$;

-- The newest event sample of `val` in [since, before), or `since` (the version's own start sample).
CREATE FUNCTION label_sample_before(tenant uuid, dev text, lab text, val text, since timestamptz,
                                    before timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT e.ts FROM events e
                    WHERE e.tenant_id = tenant AND e.device = dev AND e.ts >= since AND e.ts < before
                      AND val IS NOT NULL AND e.labels ->> lab = val
                    ORDER BY e.ts DESC LIMIT 1), since)
$$;

-- One sample into the versions of its (device, label).
CREATE FUNCTION fold_label_sample(tenant uuid, dev text, lab text, at timestamptz, val text, src "char") RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v label_versions;
  resume timestamptz;
BEGIN
  SELECT * INTO v FROM label_versions lv
   WHERE lv.tenant_id = tenant AND lv.device = dev AND lv.label = lab AND lv.valid_from <= at
   ORDER BY lv.valid_from DESC LIMIT 1;
  IF NOT FOUND THEN
    -- Before every version: F holds no sample there, so the value holds until the first version.
    INSERT INTO label_versions (tenant_id, device, label, valid_from, valid_to, value, last_sample, origin)
    SELECT tenant, dev, lab, at, coalesce(min(lv.valid_from), 'infinity'), val, at, src
      FROM label_versions lv WHERE lv.tenant_id = tenant AND lv.device = dev AND lv.label = lab;
    RETURN;
  END IF;
  IF at = v.valid_from THEN
    -- A tie with the version's start: only a larger value changes anything.
    IF NOT label_sample_wins(val, v.value) THEN RETURN; END IF;
    resume := CASE WHEN v.last_sample > at
                   THEN label_sample_after(tenant, dev, lab, v.value, at, v.last_sample, v.valid_to) ELSE v.valid_to END;
    UPDATE label_versions lv SET value = val, valid_to = resume, last_sample = at, origin = src
     WHERE lv.tenant_id = tenant AND lv.device = dev AND lv.label = lab AND lv.valid_from = at;
    PERFORM label_versions_resume(v, resume);
    RETURN;
  END IF;
  IF val IS NOT DISTINCT FROM v.value AND src = 'e' THEN
    UPDATE label_versions lv SET last_sample = greatest(lv.last_sample, at)
     WHERE lv.tenant_id = tenant AND lv.device = dev AND lv.label = lab AND lv.valid_from = v.valid_from;
    RETURN;
  END IF;
  IF val IS DISTINCT FROM v.value AND NOT label_sample_wins(val, v.value)
     AND label_sample_after(tenant, dev, lab, v.value, at - interval '1 microsecond', at, NULL) IS NOT NULL THEN
    -- Loses the tie with a sample of the version's value at the same time (now part of F).
    UPDATE label_versions lv SET last_sample = greatest(lv.last_sample, at)
     WHERE lv.tenant_id = tenant AND lv.device = dev AND lv.label = lab AND lv.valid_from = v.valid_from;
    RETURN;
  END IF;
  -- Split: [start, at) keeps the old value, [at, resume) takes the sample's, the old value resumes at its
  -- own next sample (an API sample of the same value is its own version: no resume, it runs to the end).
  resume := CASE WHEN val IS NOT DISTINCT FROM v.value OR v.last_sample <= at THEN v.valid_to
                 ELSE label_sample_after(tenant, dev, lab, v.value, at, v.last_sample, v.valid_to) END;
  UPDATE label_versions lv
     SET valid_to = at,
         last_sample = CASE WHEN v.last_sample < at THEN v.last_sample
                            ELSE label_sample_before(tenant, dev, lab, v.value, v.valid_from, at) END
   WHERE lv.tenant_id = tenant AND lv.device = dev AND lv.label = lab AND lv.valid_from = v.valid_from;
  INSERT INTO label_versions (tenant_id, device, label, valid_from, valid_to, value, last_sample, origin)
  VALUES (tenant, dev, lab, at, resume, val,
          CASE WHEN resume = v.valid_to AND val IS NOT DISTINCT FROM v.value THEN greatest(at, v.last_sample) ELSE at END, src);
  PERFORM label_versions_resume(v, resume);
END;
$$;

-- The rest of a split version, [resume, its end), with its old value and newest sample (an event's).
CREATE FUNCTION label_versions_resume(v label_versions, resume timestamptz) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO label_versions (tenant_id, device, label, valid_from, valid_to, value, last_sample, origin)
  SELECT v.tenant_id, v.device, v.label, resume, v.valid_to, v.value, v.last_sample, 'e'
   WHERE resume < v.valid_to
$$;

CREATE TYPE label_sample AS (device text, label text, ts timestamptz, value text, origin "char");

-- Parses a batch of samples, [{device, label, ts, value|null, origin}] with ts an ISO-8601 string with
-- its offset or epoch milliseconds, in one set-wise pass (a claim may carry 10^5 samples), and raises
-- naming the field of the first bad one. Callers validate first; this is the last guard.
CREATE FUNCTION parse_label_samples(samples jsonb) RETURNS label_sample[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
  parsed label_sample[];
  bad text;
BEGIN
  IF jsonb_typeof(samples) IS DISTINCT FROM 'array' THEN
    RAISE EXCEPTION 'fold_label_samples: samples must be a JSON array' USING ERRCODE = '22023';
  END IF;
  SELECT array_agg(ROW(r.device #>> '{}', r.label #>> '{}',
                       CASE WHEN r.problem IS NOT NULL THEN NULL
                            WHEN jsonb_typeof(r.ts) = 'number' THEN 'epoch'::timestamptz + (r.ts #>> '{}')::float8 * interval '1 millisecond'
                            ELSE (r.ts #>> '{}')::timestamptz END,
                       r.value #>> '{}', (r.origin #>> '{}')::"char")::label_sample),
         min(r.problem || ': ' || r.item::text)
    INTO parsed, bad
    FROM (SELECT x.*, t.item,
                 CASE WHEN jsonb_typeof(x.device) IS DISTINCT FROM 'string' THEN 'device must be a string'
                      WHEN jsonb_typeof(x.label) IS DISTINCT FROM 'string' THEN 'label must be a string'
                      WHEN coalesce(jsonb_typeof(x.ts), 'null') NOT IN ('string', 'number') THEN 'ts must be an ISO-8601 string or epoch ms'
                      WHEN coalesce(x.origin #>> '{}', '') NOT IN ('e', 'a') THEN 'origin must be "e" or "a"'
                      WHEN coalesce(jsonb_typeof(x.value), 'null') NOT IN ('string', 'null') OR (x.origin #>> '{}' = 'e' AND x.value #>> '{}' IS NULL)
                        THEN 'value must be a string (or null from the API)'
                 END AS problem
            FROM jsonb_array_elements(samples) AS t(item),
                 jsonb_to_record(CASE WHEN jsonb_typeof(t.item) = 'object' THEN t.item ELSE '{}' END)
                   AS x(device jsonb, label jsonb, ts jsonb, value jsonb, origin jsonb)) r;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'fold_label_samples: sample %', bad USING ERRCODE = '22023';
  END IF;
  RETURN coalesce(parsed, '{}');
END;
$$;

-- Folds the set-wise part of a batch and returns the samples still to fold one by one. Per (device,
-- label) the batch's event samples form runs (consecutive in time, one value). A run inside one stored
-- version whose value it equals only moves that version's last_sample. A run inside one version that
-- holds no sample after the run's start (the live edge: new points of an unchanged tag) is folded as
-- its first and last samples: the ones between change nothing, since the value over the run is the
-- run's once its first is folded, and they stay in history where every later look-up finds them.
-- Any other run is folded sample by sample.
CREATE FUNCTION collapse_label_samples(tenant uuid, batch label_sample[]) RETURNS label_sample[]
LANGUAGE sql AS $$
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
    SELECT r.*, v.valid_from, v.value AS in_force, v.last_sample, coalesce(nxt.valid_from, 'infinity') AS next_start,
           CASE WHEN r.origin = 'e' AND coalesce(nxt.valid_from, 'infinity') > r.last_ts THEN
                  CASE WHEN v.value = r.value THEN 'equal'
                       WHEN v.valid_from IS NULL OR v.last_sample <= r.first_ts THEN 'ends' END
           END AS kind
      FROM runs r
      LEFT JOIN LATERAL (SELECT lv.valid_from, lv.value, lv.last_sample FROM label_versions lv
                          WHERE lv.tenant_id = tenant AND lv.device = r.device AND lv.label = r.label AND lv.valid_from <= r.first_ts
                          ORDER BY lv.valid_from DESC LIMIT 1) v ON true
      LEFT JOIN LATERAL (SELECT lv.valid_from FROM label_versions lv
                          WHERE lv.tenant_id = tenant AND lv.device = r.device AND lv.label = r.label AND lv.valid_from > r.first_ts
                          ORDER BY lv.valid_from LIMIT 1) nxt ON true
  ), bumped AS (
    UPDATE label_versions lv SET last_sample = m.ts
      FROM (SELECT p.device, p.label, p.valid_from, max(p.last_ts) AS ts FROM placed p WHERE p.kind = 'equal' GROUP BY 1, 2, 3) m
     WHERE lv.tenant_id = tenant AND lv.device = m.device AND lv.label = m.label AND lv.valid_from = m.valid_from
       AND lv.last_sample < m.ts
  )
  SELECT coalesce(array_agg(ROW(n.device, n.label, n.ts, n.value, n.origin)::label_sample), '{}')
    FROM numbered n JOIN placed p ON p.device = n.device AND p.label = n.label AND p.run = n.run
   WHERE p.kind IS NULL OR (p.kind = 'ends' AND n.ts IN (p.first_ts, p.last_ts))
$$;

-- Folds a batch of samples of one tenant and returns where the stored value changed: maximal ranges
-- [lo, hi) per (device, label, old value, new value), NULL = absent, hi possibly 'infinity'. Net of
-- the batch: a range changed and changed back is not returned. Samples as rows, built in SQL (the
-- refresher, from history, with no JSON round trip), e.g.
-- ARRAY(SELECT ROW(e.device, l.key, e.ts, l.value, 'e')::label_sample FROM events e, jsonb_each_text(e.labels) l ...).
CREATE FUNCTION fold_label_samples(tenant uuid, batch label_sample[])
RETURNS TABLE (device text, label text, old_value text, new_value text, lo timestamptz, hi timestamptz)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  touched label_sample[];
  prior label_versions[];
  rest label_sample[];
  one label_sample;
BEGIN
  -- Callers take this lock first (command-api under its lock_timeout, the refresher with its try-lock),
  -- so it is theirs already and this is a re-entrant no-op; it is taken here too so that no caller can
  -- ever fold a tenant's versions without it.
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
  SELECT coalesce(array_agg(lv), '{}') INTO prior
    FROM label_versions lv JOIN unnest(touched) k
      ON lv.tenant_id = tenant AND lv.device = k.device AND lv.label = k.label AND lv.valid_to > k.ts;

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
      FROM label_versions lv JOIN keys k
        ON lv.tenant_id = tenant AND lv.device = k.device AND lv.label = k.label AND lv.valid_to > k.since
  ), points AS (
    SELECT k.device, k.label, k.since AS at FROM keys k
    UNION SELECT o.device, o.label, o.valid_from FROM old o UNION SELECT o.device, o.label, o.valid_to FROM old o
    UNION SELECT n.device, n.label, n.valid_from FROM new n UNION SELECT n.device, n.label, n.valid_to FROM new n
  ), segments AS (
    SELECT p.device, p.label, p.at AS lo, lead(p.at) OVER (PARTITION BY p.device, p.label ORDER BY p.at) AS hi
      FROM points p JOIN keys k ON k.device = p.device AND k.label = p.label AND p.at >= k.since
  ), changed AS (
    -- Joins, not correlated look-ups: hashed per (device, label), never every segment against every version.
    SELECT s.device, s.label, s.lo, s.hi, o.value AS old_value, n.value AS new_value
      FROM segments s
      LEFT JOIN old o ON o.device = s.device AND o.label = s.label AND o.valid_from <= s.lo AND s.lo < o.valid_to
      LEFT JOIN new n ON n.device = s.device AND n.label = s.label AND n.valid_from <= s.lo AND s.lo < n.valid_to
     WHERE s.hi IS NOT NULL
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

-- fold_label_samples with its samples as JSON
-- (command-api: [{device, label, ts, value|null, origin}]), parsed and passed on.
CREATE FUNCTION fold_label_samples(tenant uuid, samples jsonb)
RETURNS TABLE (device text, label text, old_value text, new_value text, lo timestamptz, hi timestamptz)
LANGUAGE sql AS $$
  SELECT * FROM fold_label_samples(tenant, parse_label_samples(samples))
$$;

-- Notes, for the refresher, the group minutes a fold's changes make stale: every minute in which the
-- device has history inside a changed range, for the old and the new value (absent is no group).
-- `changes` is fold_label_samples' result as a JSON array (jsonb_agg of its rows). Minutes come from the
-- device's history by its primary-key range (events of one device, not the tenant's rollups). Returns
-- the notes written.
CREATE FUNCTION note_label_changes(tenant uuid, changes jsonb) RETURNS bigint
LANGUAGE sql AS $$
  WITH noted AS (
    INSERT INTO group_dirty (tenant_id, label, label_value, bucket)
    SELECT DISTINCT tenant, c.label, v.value, m.bucket
      FROM jsonb_to_recordset(coalesce(changes, '[]')) AS c(device text, label text, old_value text, new_value text,
                                                         lo timestamptz, hi timestamptz)
     CROSS JOIN LATERAL (VALUES (c.old_value), (c.new_value)) AS v(value)
     CROSS JOIN LATERAL (SELECT DISTINCT date_bin('1 minute', e.ts, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS bucket
                           FROM events e
                          WHERE e.tenant_id = tenant AND e.device = c.device AND e.ts >= c.lo AND e.ts < c.hi) AS m
     WHERE v.value IS NOT NULL
    RETURNING 1
  )
  SELECT count(*) FROM noted
$$;
