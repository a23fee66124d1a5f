import type { Queryable } from '@strata/core';

/*
 * The label samples of a tenant's claimed minutes whose notes said they hold labelled rows, folded into
 * label_versions (fold_label_samples, migration 0021: decision 0074's rules) and the group minutes each
 * change moved noted in group_dirty (note_label_changes), in one statement of the refresher's tenant
 * transaction, before any minute is recomputed: the claim's own minutes then see the new versions, and
 * other minutes a change reached are claimed from their group notes. Every labelled row of those minutes
 * is a sample, also rows folded by an earlier claim (a minute noted again): a sample equal to the value
 * in force only moves last_sample, so folding it again changes nothing. History is read per run of
 * minutes (gaps and islands, one bounded scan each, BRIN on ts), only rows with labels kept.
 * The caller holds the tenant's aggregate lock (lockTenantAggregates), as the function requires.
 */
const SQL = `
WITH minutes AS (
  SELECT DISTINCT unnest($2::timestamptz[]) AS bucket
), ranges AS (
  SELECT min(bucket) AS lo, max(bucket) + interval '1 minute' AS hi
    FROM (SELECT bucket, bucket - row_number() OVER (ORDER BY bucket) * interval '1 minute' AS island FROM minutes) m
   GROUP BY island
), samples AS (
  -- The array form of the fold (no JSON round trip): one label_sample per label of each labelled row.
  SELECT array_agg(ROW(e.device, l.key, e.ts, l.value, 'e')::label_sample) AS batch, count(*)::int AS n
    FROM ranges g
   CROSS JOIN LATERAL (
     SELECT device, ts, labels FROM tenant_events
      WHERE tenant_id = $1 AND ts >= g.lo AND ts < g.hi AND ts >= $3::timestamptz AND ts < $4::timestamptz AND labels IS NOT NULL
     OFFSET 0 -- kept a subquery: one scan per range
   ) e
   CROSS JOIN LATERAL jsonb_each_text(e.labels) l
), changes AS (
  SELECT c.* FROM samples s CROSS JOIN LATERAL fold_label_samples($1, s.batch) c WHERE s.n > 0
)
SELECT (SELECT n FROM samples) AS samples,
       note_label_changes($1, (SELECT coalesce(jsonb_agg(to_jsonb(c)), '[]'::jsonb) FROM changes c)) AS noted,
       (SELECT coalesce(array_agg(DISTINCT device), '{}') FROM changes) AS devices`;

export interface FoldClaimedLabelSamplesQuery {
  tenantId: string;
  /** Claimed minutes whose notes said labelled, ISO-8601. */
  minutes: string[];
}

export interface FoldOutcome {
  /** Samples folded. */
  samples: number;
  /** Devices whose versions changed (their cached labels are written after the commit). */
  devices: string[];
}

export async function foldClaimedLabelSamples(db: Queryable, query: FoldClaimedLabelSamplesQuery): Promise<FoldOutcome> {
  const times = query.minutes.map((minute) => Date.parse(minute));
  const from = new Date(Math.min(...times)).toISOString();
  const to = new Date(Math.max(...times) + 60_000).toISOString();
  const result = await db.query<{ samples: number | null; devices: string[] }>({
    name: 'fold-claimed-label-samples',
    text: SQL,
    values: [query.tenantId, query.minutes, from, to],
  });
  const row = result.rows[0];
  return { samples: row?.samples ?? 0, devices: row?.devices ?? [] };
}
