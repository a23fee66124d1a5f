import type { Queryable } from '@strata/core';
import type { RollupKey } from './replace-minute-aggregates.ts';

/*
 * One coarser rollup level recomputed from the level below for the (device, value, bucket) keys a
 * refresh touched, and written over what it holds (update with full values, delete what is gone).
 * Combining is exact: counts and numeric sums add, min of minima, max of maxima, and `last` is the
 * finer row's `last` with the newest last_ts (the larger on a tie, as over raw history). The keys
 * come from the finer level's refresh, both those it wrote and those it deleted, so a bucket whose
 * events are gone disappears at every level. Each key's finer rows are one range of the primary
 * key (LATERAL): a join let the planner, misled by a level that grew within the refresh (statistics
 * of an empty table), read all of the tenant's finer rows for every refresh (decision 0064).
 */
const statement = (target: string, source: string, width: string, next: string): string => `
WITH touched AS (
  SELECT DISTINCT device, value_key, date_bin('${width}', bucket, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS bucket
    FROM unnest($2::text[], $3::text[], $4::timestamptz[]) AS k(device, value_key, bucket)
), fresh AS (
  SELECT t.device, t.value_key, t.bucket, sum(s.count) AS count, sum(s.sum) AS sum, min(s.min) AS min, max(s.max) AS max,
         (array_agg(s.last ORDER BY s.last_ts DESC, s.last DESC))[1] AS last, max(s.last_ts) AS last_ts
    FROM touched t
   CROSS JOIN LATERAL (
     SELECT count, sum, min, max, last, last_ts FROM ${source}
      WHERE tenant_id = $1 AND device = t.device AND value_key = t.value_key
        -- The lower bound as a row of the primary key: only the primary key can start there, so the
        -- planner cannot take the (tenant_id, bucket) index and read every device's finer rows from
        -- the bucket on (21.6 s for one hour of 1,000 devices; 0.14 s this way).
        AND (device, value_key, bucket) >= (t.device, t.value_key, t.bucket) AND bucket < t.bucket + interval '${width}'
     OFFSET 0 -- kept a subquery (not pulled up into a join): one index range per key, whatever the statistics say
   ) s
   GROUP BY 1, 2, 3
), written AS (
  INSERT INTO ${target} AS r (tenant_id, device, value_key, bucket, count, sum, min, max, last, last_ts)
  SELECT $1, device, value_key, bucket, count, sum, min, max, last, last_ts FROM fresh ORDER BY 1, 2, 3, 4
  ON CONFLICT (tenant_id, device, value_key, bucket) DO UPDATE SET
    count = excluded.count, sum = excluded.sum, min = excluded.min, max = excluded.max, last = excluded.last, last_ts = excluded.last_ts
  WHERE (r.count, r.sum, r.min, r.max, r.last, r.last_ts) IS DISTINCT FROM (excluded.count, excluded.sum, excluded.min, excluded.max, excluded.last, excluded.last_ts)
), gone AS (
  -- Touched buckets the finer level no longer has. EXCEPT (hashed or sorted) rather than NOT EXISTS
  -- against the CTE: the planner guesses 200 rows for a CTE and ran that anti join as a nested loop,
  -- 48 s for the 20k keys of one busy minute (issue 10's bench).
  SELECT device, value_key, bucket FROM touched
  EXCEPT
  SELECT device, value_key, bucket FROM fresh
), removed AS (
  DELETE FROM ${target} r USING gone g
   WHERE r.tenant_id = $1 AND r.device = g.device AND r.value_key = g.value_key AND r.bucket = g.bucket
)
SELECT DISTINCT device, value_key, date_bin('${next}', bucket, TIMESTAMPTZ '1970-01-01 00:00:00+00')::text AS bucket FROM touched`;

/** Levels from a fixed list: table names never come from input. */
const LEVELS = {
  hour: { name: 'replace-rollups-1h', text: statement('rollups_1h', 'rollups_1m', '1 hour', '1 day') },
  day: { name: 'replace-rollups-1d', text: statement('rollups_1d', 'rollups_1h', '1 day', '1 day') },
} as const;

export interface ReplaceCoarserRollupsQuery {
  tenantId: string;
  level: keyof typeof LEVELS;
  /** The (device, value, bucket) keys of the finer level that a refresh recomputed, kept or deleted. */
  touched: RollupKey[];
}

/**
 * Recomputes the level's buckets holding `touched` and returns the keys it touched, binned to the next
 * coarser level (days), which is the next call's input.
 */
export async function replaceCoarserRollups(db: Queryable, query: ReplaceCoarserRollupsQuery): Promise<RollupKey[]> {
  const level = LEVELS[query.level];
  const result = await db.query<{ device: string; value_key: string; bucket: string }>({
    name: level.name,
    text: level.text,
    values: [query.tenantId, query.touched.map((k) => k.device), query.touched.map((k) => k.valueKey), query.touched.map((k) => k.bucket)],
  });
  return result.rows.map((row) => ({ device: row.device, valueKey: row.value_key, bucket: row.bucket }));
}
