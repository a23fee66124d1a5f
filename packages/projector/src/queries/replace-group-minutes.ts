import type { Queryable } from '@strata/core';
import { GROUP_MINUTE_AGGREGATE, groupKeys, memberSamples, TOUCHED_GROUP_HOURS, WRITE_GROUP_MINUTES, type GroupKey, type GroupKeyRow } from './group-minute-sql.ts';

/*
 * Every group's rows of a tenant's claimed minutes, recomputed from history under the label versions
 * this statement's snapshot sees and written over group_rollups_1m; rows of those minutes no group has
 * any more are deleted, and so are the minutes' group notes that snapshot sees (this recomputation covers
 * the changes behind them; a later change's note stays, decision 0115). Replace, never add (decision
 * 0074, as 0060 for device rollups). Also for ended group-noted minutes whose notes name half their
 * groups or more (the refresher's splitNotedMinutes), whose device minutes are materialized already.
 *
 * It starts from the devices that reported in the claimed minutes (their fresh device minutes) and
 * their versions overlapping each run of claimed minutes (gaps and islands, as
 * replace-minute-aggregates.ts), then reads one primary-key range of history per member device and
 * run (LATERAL, OFFSET 0), joined back to the device's versions in memory: work ∝ the claim's
 * reporting members, not the tenant's labelled devices. A tenant without labels reads neither
 * rollups nor history here: its refresh costs this statement's round trip and three empty index
 * probes (any version of the tenant, the group rows and notes of the claim's span).
 * $3/$4 bound all ranges (partitions outside the claim pruned at plan time, index ranges for the deletes).
 * The refresher runs it inside withHashedAggregation (decision 0108), and every caller in production
 * should: a named statement keeps the plan it was first given, so a connection that ran it once
 * without the setting would keep sorting the samples.
 */
const SQL = `
WITH minutes AS (
  SELECT DISTINCT unnest($2::timestamptz[]) AS bucket
), ranges AS (
  SELECT min(bucket) AS lo, max(bucket) + interval '1 minute' AS hi
    FROM (SELECT bucket, bucket - row_number() OVER (ORDER BY bucket) * interval '1 minute' AS island FROM minutes) m
   GROUP BY island
), active AS (
  -- Devices with numeric values in the minutes: their device minutes were just replaced in this
  -- transaction (replace-minute-aggregates.ts runs first), or are materialized (a group-noted minute
  -- has no tenant note left), so rollups_1m's (tenant, bucket) index names them; a device without a row there adds nothing to any group. Skipped outright (a one-time filter)
  -- for a tenant that has no label version at all.
  SELECT DISTINCT r.device
    FROM ranges g
    JOIN rollups_1m r ON r.tenant_id = $1 AND r.bucket >= g.lo AND r.bucket < g.hi AND r.bucket >= $3::timestamptz AND r.bucket < $4::timestamptz
   WHERE EXISTS (SELECT 1 FROM label_versions WHERE tenant_id = $1)
), ${memberSamples(' AND ts >= $3::timestamptz AND ts < $4::timestamptz')}, ${GROUP_MINUTE_AGGREGATE}, ${WRITE_GROUP_MINUTES}, gone AS (
  SELECT r.label, r.label_value, r.value_key, r.bucket
    FROM ranges g JOIN group_rollups_1m r
      ON r.tenant_id = $1 AND r.bucket >= g.lo AND r.bucket < g.hi AND r.bucket >= $3::timestamptz AND r.bucket < $4::timestamptz
  EXCEPT
  SELECT label, label_value, value_key, bucket FROM fresh
), removed AS (
  DELETE FROM group_rollups_1m r USING gone x
   WHERE r.tenant_id = $1 AND r.label = x.label AND r.label_value = x.label_value AND r.value_key = x.value_key AND r.bucket = x.bucket
  RETURNING r.label, r.label_value, r.value_key, r.bucket
), unnoted AS (
  DELETE FROM group_dirty d USING ranges g
   WHERE d.tenant_id = $1 AND d.bucket >= g.lo AND d.bucket < g.hi AND d.bucket >= $3::timestamptz AND d.bucket < $4::timestamptz
)
${TOUCHED_GROUP_HOURS}`;

export interface ReplaceGroupMinutesQuery {
  tenantId: string;
  /** The claimed minute buckets, ISO-8601. */
  minutes: string[];
}

/** Returns the group keys written or deleted, binned to the hour (the group hour level's input). */
export async function replaceGroupMinutes(db: Queryable, query: ReplaceGroupMinutesQuery): Promise<GroupKey[]> {
  const times = query.minutes.map((minute) => Date.parse(minute));
  const from = new Date(Math.min(...times)).toISOString();
  const to = new Date(Math.max(...times) + 60_000).toISOString();
  const result = await db.query<GroupKeyRow>({
    name: 'replace-group-minutes',
    text: SQL,
    values: [query.tenantId, query.minutes, from, to],
  });
  return groupKeys(result.rows);
}
