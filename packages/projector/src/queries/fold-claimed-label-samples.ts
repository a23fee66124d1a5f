import type { Queryable } from '@strata/core';

/*
 * The label samples of a tenant's claimed minutes whose notes said they hold labelled rows, folded into
 * label_versions (fold_label_samples, migration 0021: decision 0074's rules) and the group minutes each
 * change moved noted in group_dirty (note_label_changes). Every labelled row of those minutes is a
 * sample, also rows folded by an earlier claim (a minute noted again): a sample equal to the value in
 * force only moves last_sample, so folding it again changes nothing.
 *
 * Two statements, and the caller's lock between them (decision 0115). The first reads history: one
 * bounded scan per run of minutes (gaps and islands, BRIN on ts), only rows with labels kept, reduced
 * to one row per (device, label) in a temporary table of the transaction. It reads no label version, so
 * it runs before the tenant's label versions lock is taken: for a busy minute it is most of the fold
 * (1.7 of 2.0 s for 517,500 labelled rows, 2026-12-03), and label writes (PUT/PATCH) no longer wait for
 * it. The second runs under the lock: the verdicts on the versions as they are then, the fold, the notes.
 * A tag that did not change is one run of one value: where collapse_label_samples (the fold's first
 * step) would keep only that run's first and last sample, only those two are passed (decision 0109).
 * Keys that cannot be cut have their samples read again from history, by primary-key range (rows
 * committed between the two statements may be among them: a history sample folded early is harmless,
 * migration 0021, and its drain noted the minute again). A busy line-protocol minute (352,000 points
 * of 10,000 devices) then hands the fold 20,000 samples.
 */
// The claimed minutes ($2) as runs of consecutive minutes (gaps and islands): one bounded range each.
const RANGES = `WITH minutes AS (
  SELECT DISTINCT unnest($2::timestamptz[]) AS bucket
), ranges AS (
  SELECT min(bucket) AS lo, max(bucket) + interval '1 minute' AS hi
    FROM (SELECT bucket, bucket - row_number() OVER (ORDER BY bucket) * interval '1 minute' AS island FROM minutes) m
   GROUP BY island
)`;

const KEYS_TABLE = `
  CREATE TEMPORARY TABLE IF NOT EXISTS claimed_label_keys (
    device text NOT NULL, label text NOT NULL, n int NOT NULL, first_ts timestamptz NOT NULL, last_ts timestamptz NOT NULL,
    value text NOT NULL, uniform boolean NOT NULL
  ) ON COMMIT DELETE ROWS`;

const COLLECT = `
${RANGES}, sets AS MATERIALIZED (
  -- Each device's label sets in each range, with their samples' count and span. A device's labels
  -- seldom change within a minute, so this is about one row per device, and only those rows are taken
  -- apart below: jsonb_each_text on every labelled row and the grouping of its output were over half
  -- of this statement (5.4 s against 2.6 s for a line-protocol minute of 815,000 points of 10,000
  -- devices, 3.1 s against 1.4 s for a label-writes minute of 614,500; 2026-12-04, decision 0129).
  -- Grouped by their text, never by the jsonb: jsonb's hash rotates one bit per key and value, so two
  -- equal strings 32 places apart cancel, and a tenant can send any number of different label sets
  -- with one hash (17 tags) that a hash aggregate then compares with each other, rows × rows. Text is
  -- hashed whole; jsonb's text is canonical (keys sorted, each once), and a grouping finer than jsonb
  -- equality would only split a set, never change the sums below.
  SELECT e.device, e.labels::text AS labels, g.lo, count(*) AS n, min(e.ts) AS first_ts, max(e.ts) AS last_ts
    FROM ranges g
   CROSS JOIN LATERAL (
     SELECT device, ts, labels FROM tenant_events
      WHERE tenant_id = $1 AND ts >= g.lo AND ts < g.hi AND ts >= $3::timestamptz AND ts < $4::timestamptz AND labels IS NOT NULL
     OFFSET 0 -- kept a subquery: one scan per range
   ) e
   GROUP BY e.device, e.labels::text, g.lo
), tagged AS (
  -- One row per label of each label set.
  SELECT s.device, l.key AS label, s.n, s.first_ts, s.last_ts, l.value, s.lo
    FROM sets s CROSS JOIN LATERAL jsonb_each_text(s.labels::jsonb) l
), cleared AS (
  DELETE FROM claimed_label_keys
)
-- Per (device, label): its samples' span, and whether they are one value in one range.
INSERT INTO claimed_label_keys (device, label, n, first_ts, last_ts, value, uniform)
SELECT device, label, sum(n)::int, min(first_ts), max(last_ts), min(value), min(value) = max(value) AND min(lo) = max(lo)
  FROM tagged GROUP BY device, label`;

const FOLD = `
${RANGES}, keys AS MATERIALIZED (
  SELECT device, label, n, first_ts, last_ts, value, uniform FROM claimed_label_keys
), placed AS (
  -- Whether collapse_label_samples (the fold's first step) would keep only the first and last sample of
  -- the key's run, or none: one run (one value in one range, so no other sample of the key in the
  -- batch) and label_run_verdict (migration 0029, the rule collapse applies) says 'equal' or 'ends',
  -- from the same look-ups collapse makes, on the same state (this statement's, under the lock, before
  -- the fold). Only such keys are cut to their first and last sample, which collapse then treats
  -- exactly as the whole run. coalesce: a NULL here would drop the key's samples from both branches below.
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
  -- Every sample of the keys not cut, read again: one primary-key range of the device's history per
  -- key and run of minutes (LATERAL, OFFSET 0: never a scan of the minutes per key).
  SELECT p.device, p.label, e.ts, e.value
    FROM (SELECT device, label, first_ts, last_ts FROM placed WHERE NOT cut) p
   CROSS JOIN ranges g
   CROSS JOIN LATERAL (
     SELECT h.ts, h.labels ->> p.label AS value FROM tenant_events h
      WHERE h.tenant_id = $1 AND h.device = p.device AND h.ts >= g.lo AND h.ts < g.hi AND h.ts >= p.first_ts AND h.ts <= p.last_ts
        AND h.ts >= $3::timestamptz AND h.ts < $4::timestamptz AND h.labels ? p.label
     OFFSET 0
   ) e
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
SELECT (SELECT n FROM samples) AS samples, (SELECT count(*) FROM keys)::int AS keys,
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

/**
 * Folds the claimed minutes' label samples; `lock` takes the tenant's label versions lock (core's
 * lockTenantLabelVersions) and is awaited after history is read and before any label version is,
 * inside the caller's transaction (the collected keys live until it ends). A caller already holding
 * the lock passes a function that does nothing.
 */
export async function foldClaimedLabelSamples(db: Queryable, query: FoldClaimedLabelSamplesQuery, lock: () => Promise<void>): Promise<FoldOutcome> {
  const times = query.minutes.map((minute) => Date.parse(minute));
  const from = new Date(Math.min(...times)).toISOString();
  const to = new Date(Math.max(...times) + 60_000).toISOString();
  const values = [query.tenantId, query.minutes, from, to];
  await db.query(KEYS_TABLE);
  const collected = await db.query({ name: 'collect-claimed-label-keys', text: COLLECT, values });
  await lock();
  const result = await db.query<{ samples: number | null; devices: string[]; keys: number }>({ name: 'fold-claimed-label-samples', text: FOLD, values });
  const row = result.rows[0];
  // Outside a transaction the keys would be gone by now (ON COMMIT DELETE ROWS) and nothing folded.
  if ((row?.keys ?? 0) !== (collected.rowCount ?? 0)) {
    throw new Error(`foldClaimedLabelSamples: ${collected.rowCount} label keys collected, ${row?.keys ?? 0} reached the fold (it must run inside one transaction)`);
  }
  return { samples: row?.samples ?? 0, devices: row?.devices ?? [] };
}
