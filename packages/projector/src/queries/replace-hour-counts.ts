import type { Queryable } from '@strata/core';

/**
 * The tenant's event counts of the hours holding `minutes`, recomputed from event_counts_1m and
 * written over event_counts_1h (updated, or deleted when the hour has no events of a type left).
 */
export async function replaceHourCounts(db: Queryable, tenantId: string, minutes: string[]): Promise<void> {
  await db.query({
    name: 'replace-hour-counts',
    text: `WITH hours AS (
             SELECT DISTINCT date_bin('1 hour', m, TIMESTAMPTZ '1970-01-01 00:00:00+00') AS bucket FROM unnest($2::timestamptz[]) AS m
           ), fresh AS (
             SELECT h.bucket, c.type, sum(c.count)::bigint AS count
               FROM hours h JOIN event_counts_1m c ON c.tenant_id = $1 AND c.bucket >= h.bucket AND c.bucket < h.bucket + interval '1 hour'
              GROUP BY 1, 2
           ), written AS (
             INSERT INTO event_counts_1h AS c (tenant_id, bucket, type, count)
             SELECT $1, bucket, type, count FROM fresh ORDER BY 2, 3
             ON CONFLICT (tenant_id, bucket, type) DO UPDATE SET count = excluded.count WHERE c.count <> excluded.count
           )
           DELETE FROM event_counts_1h c USING hours h
            WHERE c.tenant_id = $1 AND c.bucket = h.bucket
              AND NOT EXISTS (SELECT 1 FROM fresh f WHERE f.bucket = c.bucket AND f.type = c.type)`,
    values: [tenantId, minutes],
  });
}
