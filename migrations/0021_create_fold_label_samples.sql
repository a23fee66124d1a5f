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

-- Parses and checks a batch of samples: [{device, label, ts, value|null, origin}], ts an ISO-8601
-- string with its offset or epoch milliseconds. Set-wise (a claim may carry 10^5 samples): one pass finds
-- the first bad sample and raises naming its field; callers validate first, this is the last guard.
CREATE FUNCTION parse_label_samples(samples jsonb) RETURNS label_sample[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
  bad record;
  parsed label_sample[];
BEGIN
  IF jsonb_typeof(samples) IS DISTINCT FROM 'array' THEN
    RAISE EXCEPTION 'fold_label_samples: samples must be a JSON array' USING ERRCODE = '22023';
  END IF;
  SELECT item, CASE
           WHEN jsonb_typeof(item -> 'device') IS DISTINCT FROM 'string' THEN 'device must be a string'
           WHEN jsonb_typeof(item -> 'label') IS DISTINCT FROM 'string' THEN 'label must be a string'
           WHEN coalesce(jsonb_typeof(item -> 'ts'), 'null') NOT IN ('string', 'number') THEN 'ts must be an ISO-8601 string or epoch ms'
           WHEN coalesce(item ->> 'origin', '') NOT IN ('e', 'a') THEN 'origin must be "e" or "a"'
           WHEN coalesce(jsonb_typeof(item -> 'value'), 'null') NOT IN ('string', 'null') OR (item ->> 'origin' = 'e' AND item ->> 'value' IS NULL)
             THEN 'value must be a string (or null from the API)'
         END AS problem
    INTO bad
    FROM jsonb_array_elements(samples) AS item
   WHERE jsonb_typeof(item -> 'device') IS DISTINCT FROM 'string' OR jsonb_typeof(item -> 'label') IS DISTINCT FROM 'string'
      OR coalesce(jsonb_typeof(item -> 'ts'), 'null') NOT IN ('string', 'number') OR coalesce(item ->> 'origin', '') NOT IN ('e', 'a')
      OR coalesce(jsonb_typeof(item -> 'value'), 'null') NOT IN ('string', 'null') OR (item ->> 'origin' = 'e' AND item ->> 'value' IS NULL)
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'fold_label_samples: sample %: %', bad.problem, bad.item USING ERRCODE = '22023';
  END IF;
  parsed := ARRAY(
    SELECT ROW(item ->> 'device', item ->> 'label',
               CASE WHEN jsonb_typeof(item -> 'ts') = 'number'
                    THEN 'epoch'::timestamptz + (item ->> 'ts')::float8 * interval '1 millisecond'
                    ELSE (item ->> 'ts')::timestamptz END,
               item ->> 'value', (item ->> 'origin')::"char")::label_sample
      FROM jsonb_array_elements(samples) AS item);
  IF EXISTS (SELECT 1 FROM unnest(parsed) p WHERE NOT isfinite(p.ts)) THEN
    RAISE EXCEPTION 'fold_label_samples: sample ts must be finite' USING ERRCODE = '22023';
  END IF;
  RETURN parsed;
END;
$$;

-- Folds a batch of samples of one tenant and returns where the stored value changed: maximal ranges
-- [lo, hi) per (device, label, old value, new value), NULL = absent, hi possibly 'infinity'. Net of
-- the batch: a range changed and changed back is not returned. Samples equal to the value in force
-- (the common case: a tag repeated on every point) only move last_sample, set-wise, before the rest
-- are folded one by one (folding them first is one of the orders, all of which give the same state).
CREATE FUNCTION fold_label_samples(tenant uuid, samples jsonb)
RETURNS TABLE (device text, label text, old_value text, new_value text, lo timestamptz, hi timestamptz)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  batch label_sample[];
  prior label_versions[];
  rest label_sample[];
  one label_sample;
BEGIN
  -- Callers take this lock first (command-api under its lock_timeout, the refresher with its try-lock),
  -- so it is theirs already and this is a re-entrant no-op; it is taken here too so that no caller can
  -- ever fold a tenant's versions without it.
  PERFORM pg_advisory_xact_lock(60060, hashtext(tenant::text));
  batch := parse_label_samples(samples);

  -- The versions the batch can change (those ending after its earliest sample of their label), as they were.
  SELECT coalesce(array_agg(lv), '{}') INTO prior
    FROM label_versions lv
    JOIN (SELECT b.device, b.label, min(b.ts) AS since FROM unnest(batch) b GROUP BY 1, 2) k
      ON lv.tenant_id = tenant AND lv.device = k.device AND lv.label = k.label AND lv.valid_to > k.since;

  -- Event samples equal to the value of the version they land in move its last_sample, set-wise; the
  -- others are folded one by one.
  WITH placed AS (
    SELECT b.device, b.label, b.ts, b.value, b.origin, v.valid_from, (b.origin = 'e' AND v.value = b.value) AS same
      FROM unnest(batch) b
      LEFT JOIN LATERAL (SELECT lv.valid_from, lv.value FROM label_versions lv
                          WHERE lv.tenant_id = tenant AND lv.device = b.device AND lv.label = b.label AND lv.valid_from <= b.ts
                          ORDER BY lv.valid_from DESC LIMIT 1) v ON true
  ), bumped AS (
    UPDATE label_versions lv SET last_sample = greatest(lv.last_sample, m.ts)
      FROM (SELECT p.device, p.label, p.valid_from, max(p.ts) AS ts FROM placed p WHERE p.same GROUP BY 1, 2, 3) m
     WHERE lv.tenant_id = tenant AND lv.device = m.device AND lv.label = m.label AND lv.valid_from = m.valid_from
  )
  SELECT coalesce(array_agg(DISTINCT ROW(p.device, p.label, p.ts, p.value, p.origin)::label_sample), '{}') INTO rest
    FROM placed p WHERE NOT coalesce(p.same, false);

  FOREACH one IN ARRAY rest LOOP
    PERFORM fold_label_sample(tenant, one.device, one.label, one.ts, one.value, one.origin);
  END LOOP;

  RETURN QUERY
  WITH keys AS (
    SELECT k.device, k.label, min(k.ts) AS since FROM unnest(batch) k GROUP BY 1, 2
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
    SELECT s.device, s.label, s.lo, s.hi,
           (SELECT o.value FROM old o WHERE o.device = s.device AND o.label = s.label AND o.valid_from <= s.lo AND s.lo < o.valid_to) AS old_value,
           (SELECT n.value FROM new n WHERE n.device = s.device AND n.label = s.label AND n.valid_from <= s.lo AND s.lo < n.valid_to) AS new_value
      FROM segments s WHERE s.hi IS NOT NULL
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
