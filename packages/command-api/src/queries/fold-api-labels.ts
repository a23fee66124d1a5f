import type { LabelPatch, Queryable } from '@strata/core';

// One statement: the instant (the database clock cut to the millisecond, so every writer of versions
// agrees on one clock), the samples, the fold. A PUT also samples as absent every label in force at
// that instant that its body does not name (decision 0074: PUT replaces). Each sample is an API
// sample ('a'): it starts a version of its own at the instant, so a late event sample folded later
// reaches at most up to it. note_label_changes (migration 0021) notes the group minutes the changed
// ranges hold events in (at now, usually none: a PUT re-notes nothing of the past, decision 0074).
// The caller holds the tenant's label versions lock (core's lockTenantLabelVersions), which the fold takes again.
const SQL = `
  WITH clock AS MATERIALIZED (SELECT date_trunc('milliseconds', clock_timestamp()) AS now),
  body AS (
    SELECT key AS label, CASE jsonb_typeof(value) WHEN 'string' THEN value #>> '{}' END AS value
      FROM jsonb_each($3::jsonb)),
  held AS (
    -- The device's versions by primary key; \`value IS NOT NULL\` outside (OFFSET 0), as in
    -- select-device-labels-at.ts, so that no partial index of all the tenant's versions is read instead.
    SELECT v.label
      FROM (SELECT lv.label, lv.value FROM label_versions lv, clock
             WHERE lv.tenant_id = $1 AND lv.device = $2 AND lv.valid_from <= clock.now AND lv.valid_to > clock.now
            OFFSET 0) v
     WHERE v.value IS NOT NULL),
  samples AS (
    SELECT label, value FROM body
    UNION ALL
    SELECT label, NULL FROM held WHERE $4::boolean AND NOT EXISTS (SELECT 1 FROM body WHERE body.label = held.label)),
  folded AS (
    SELECT f.*
      FROM clock, fold_label_samples($1::uuid, (
        SELECT coalesce(jsonb_agg(jsonb_build_object('device', $2::text, 'label', s.label, 'ts', clock.now, 'value', s.value, 'origin', 'a')), '[]'::jsonb)
          FROM samples s)) f),
  noted AS (SELECT note_label_changes($1::uuid, (SELECT jsonb_agg(to_jsonb(f)) FROM folded f)) AS notes)
  SELECT (extract(epoch FROM clock.now) * 1000)::float8 AS effective_ms, (SELECT count(*) FROM folded)::int AS changes,
         (SELECT notes FROM noted)::int AS notes
    FROM clock`;

interface Row {
  effective_ms: number;
  changes: number;
  notes: number;
}

export interface FoldedApiLabels {
  /** The write's instant, epoch milliseconds (the database clock cut to the millisecond). */
  effectiveMs: number;
  /** Ranges of (label, old value, new value) the fold changed (0 when every sample equalled the value in force). */
  changes: number;
  /** Group minutes noted for the refresher. */
  notes: number;
}

/**
 * Samples a device's labels at the database's now: `labels` as given (null = absent), and with
 * `replace` (PUT) every other label in force as absent. Returns the instant used.
 */
export async function foldApiLabels(db: Queryable, tenantId: string, device: string, labels: LabelPatch, replace: boolean): Promise<FoldedApiLabels> {
  const result = await db.query<Row>({ name: 'fold-api-labels', text: SQL, values: [tenantId, device, JSON.stringify(labels), replace] });
  const row = result.rows[0] as Row;
  return { effectiveMs: row.effective_ms, changes: row.changes, notes: row.notes };
}
