import type { Queryable } from '@strata/core';

// A version that ended before the raw horizon can no longer matter: no event older than the horizon
// is accepted (0051) or kept, so no fold lands in it, and group aggregates of its time are already
// materialized. Current versions (valid_to = infinity) stay. So does a version overlapping a minute its
// tenant still has noted (aggregate_dirty, group_dirty), as partition retention keeps that minute's day:
// the refresher will recompute the minute from history × versions, and group reads take such a minute
// as stored only while its membership is what it was at the last refresh (decision 0084); deleting the
// version first would drop its device's events from the group (hostile review of 0084). It goes at a
// later run, once the minute is refreshed.
const SQL = `
DELETE FROM label_versions v
 WHERE v.valid_to < $1::timestamptz
   AND NOT EXISTS (SELECT 1 FROM aggregate_dirty a
                    WHERE a.tenant_id = v.tenant_id AND a.bucket < v.valid_to AND a.bucket > v.valid_from - interval '1 minute')
   AND NOT EXISTS (SELECT 1 FROM group_dirty g
                    WHERE g.tenant_id = v.tenant_id AND g.bucket < v.valid_to AND g.bucket > v.valid_from - interval '1 minute')`;

/** Deletes label versions that ended before `rawHorizon` and overlap no noted minute of their tenant; returns how many. */
export async function deleteEndedLabelVersions(db: Queryable, rawHorizon: string): Promise<number> {
  const result = await db.query({ name: 'delete-ended-label-versions', text: SQL, values: [rawHorizon] });
  return result.rowCount ?? 0;
}
