/*
 * A device's labels now, as SQL for the latest-state statements (one statement each, so the labels
 * come from the same snapshot as the values): `$1` tenant, `$2` device. Per label, the newest sample
 * wins (decision 0074): the current version (valid_to = infinity; value NULL = removed) stands for its
 * newest folded sample at `last_sample`; samples in events of the tenant's noted `labelled` minutes
 * are not folded yet (the refresh that folds them deletes the notes in the same transaction) and are
 * laid over it, so labels are as fresh as values. Equal times: the larger text in the C collation
 * wins (UTF-8 bytes, as values), a removal loses to any value. `label_samples`: one row per label with
 * the winner (value NULL when removed) and its sample time, for strong reads to merge staged events.
 */
export const LABEL_SAMPLES_CTES = `
current_labels AS (
  SELECT label, value, last_sample AS ts FROM label_versions
   WHERE tenant_id = $1 AND device = $2 AND valid_to = 'infinity'
), noted_labelled AS (
  SELECT DISTINCT bucket FROM aggregate_dirty WHERE tenant_id = $1 AND labelled
), noted_samples AS (
  SELECT DISTINCT ON (l.key) l.key AS label, l.value #>> '{}' AS value, e.ts
    FROM noted_labelled d
   CROSS JOIN LATERAL (
     SELECT ts, labels FROM tenant_events
      WHERE tenant_id = $1 AND device = $2 AND ts >= d.bucket AND ts < d.bucket + interval '1 minute' AND labels IS NOT NULL
     OFFSET 0
   ) e
   CROSS JOIN LATERAL jsonb_each(e.labels) l
   WHERE jsonb_typeof(l.value) = 'string'
   ORDER BY l.key, e.ts DESC, (l.value #>> '{}') COLLATE "C" DESC
), label_samples AS (
  SELECT coalesce(c.label, s.label) AS label,
         CASE WHEN s.label IS NULL THEN c.value
              WHEN c.label IS NULL THEN s.value
              WHEN s.ts > c.ts OR (s.ts = c.ts AND (c.value IS NULL OR s.value COLLATE "C" > c.value COLLATE "C")) THEN s.value
              ELSE c.value END AS value,
         greatest(c.ts, s.ts) AS ts
    FROM current_labels c FULL JOIN noted_samples s ON s.label = c.label
)`;

/** The labels in force as one jsonb object (removed labels left out), over LABEL_SAMPLES_CTES. */
export const LABELS_OBJECT = `(SELECT coalesce(jsonb_object_agg(label, value) FILTER (WHERE value IS NOT NULL), '{}'::jsonb) FROM label_samples)`;
