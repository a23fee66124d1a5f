import type { Queryable } from '@strata/core';

/*
 * The label samples of a tenant's claimed minutes whose notes said they hold labelled rows, folded into
 * label_versions (fold_label_samples, migration 0021: decision 0074's rules) and the group minutes each
 * change moved noted in group_dirty (note_label_changes), in one statement of the refresher's tenant
 * transaction, before any group minute is recomputed: the claim's own minutes then see the new versions, and
 * other minutes a change reached are claimed from their group notes. Every labelled row of those minutes
 * is a sample, also rows folded by an earlier claim (a minute noted again): a sample equal to the value
 * in force only moves last_sample, so folding it again changes nothing. History is read per run of
 * minutes (gaps and islands, one bounded scan each, BRIN on ts), only rows with labels kept.
 * A tag that did not change is one run of one value: where collapse_label_samples (the fold's first
 * step) would keep only that run's first and last sample, only those two are passed (decision 0109).
 * A busy line-protocol minute (352,000 points of 10,000 devices) then hands the fold 20,000 samples:
 * 7.2 → 4.9 s the first time its devices' tags were seen, 3.4 → 1.7 s again (medians of three).
 * The caller holds the tenant's label versions lock (core's lockTenantLabelVersions), as the function requires.
 */
const SQL = `
WITH minutes AS (
  SELECT DISTINCT unnest($2::timestamptz[]) AS bucket
), ranges AS (
  SELECT min(bucket) AS lo, max(bucket) + interval '1 minute' AS hi
    FROM (SELECT bucket, bucket - row_number() OVER (ORDER BY bucket) * interval '1 minute' AS island FROM minutes) m
   GROUP BY island
), tagged AS MATERIALIZED (
  -- One row per label of each labelled row of the claimed minutes.
  SELECT e.device, l.key AS label, e.ts, l.value, g.lo
    FROM ranges g
   CROSS JOIN LATERAL (
     SELECT device, ts, labels FROM tenant_events
      WHERE tenant_id = $1 AND ts >= g.lo AND ts < g.hi AND ts >= $3::timestamptz AND ts < $4::timestamptz AND labels IS NOT NULL
     OFFSET 0 -- kept a subquery: one scan per range
   ) e
   CROSS JOIN LATERAL jsonb_each_text(e.labels) l
), keys AS (
  -- Per (device, label): its samples' span, and whether they are one value in one range.
  SELECT device, label, count(*)::int AS n, min(ts) AS first_ts, max(ts) AS last_ts, min(value) AS value,
         min(value) = max(value) AND min(lo) = max(lo) AS uniform
    FROM tagged GROUP BY device, label
), placed AS (
  -- Whether collapse_label_samples (the fold's first step) would keep only the first and last sample of
  -- the key's run, or none: one run (one value in one range, so no other sample of the key in the
  -- batch) and label_run_verdict (migration 0029, the rule collapse applies) says 'equal' or 'ends',
  -- from the same look-ups collapse makes, on the same state (this statement's, before the fold). Only
  -- such keys are cut to their first and last sample, which collapse then treats exactly as the whole run.
  -- coalesce: a NULL here would drop the key's samples from both branches below.
  SELECT k.*, coalesce(k.uniform AND label_run_verdict($1, k.device, k.label, k.value, k.first_ts, k.last_ts,
                                                       v.valid_from, v.value, v.last_sample, nxt.valid_from) IS NOT NULL,
                       false) AS cut
    FROM keys k
    LEFT JOIN LATERAL (SELECT lv.valid_from, lv.value, lv.last_sample FROM label_versions lv
                        WHERE lv.tenant_id = $1 AND lv.device = k.device AND lv.label = k.label AND lv.valid_from <= k.first_ts
                        ORDER BY lv.valid_from DESC LIMIT 1) v ON true
    LEFT JOIN LATERAL (SELECT lv.valid_from FROM label_versions lv
                        WHERE lv.tenant_id = $1 AND lv.device = k.device AND lv.label = k.label AND lv.valid_from > k.first_ts
                        ORDER BY lv.valid_from LIMIT 1) nxt ON true
), whole AS MATERIALIZED (
  -- Every sample of the keys not cut. A full join in a MATERIALIZED CTE, filtered after it (decision
  -- 0095): both sides are estimated at a row or two, and an inner join planned as a nested loop would
  -- compare every sample with every key.
  SELECT t.device, t.label, t.ts, t.value
    FROM tagged t FULL JOIN (SELECT device, label FROM placed WHERE NOT cut) p ON p.device = t.device AND p.label = t.label
   WHERE p.device IS NOT NULL AND t.device IS NOT NULL
), samples AS (
  -- The array form of the fold (no JSON round trip); n counts every sample, cut or not.
  SELECT (SELECT array_agg(ROW(x.device, x.label, x.ts, x.value, 'e')::label_sample)
            FROM (SELECT device, label, first_ts AS ts, value FROM placed WHERE cut
                  UNION ALL
                  SELECT device, label, last_ts, value FROM placed WHERE cut AND last_ts > first_ts
                  UNION ALL
                  SELECT device, label, ts, value FROM whole) x) AS batch,
         (SELECT coalesce(sum(n), 0)::int FROM keys) AS n
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
