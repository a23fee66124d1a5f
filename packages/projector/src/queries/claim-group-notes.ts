import type { Queryable } from '@strata/core';
import type { GroupMinute } from './replace-noted-group-minutes.ts';

export interface ClaimGroupNotesQuery {
  tenantId: string;
  /** Only minutes that ended at or before this instant (ISO-8601) are claimed. */
  closedBy: string;
  /** Minutes at most (any number of groups each). */
  limit: number;
}

/**
 * Deletes the group notes of a tenant's oldest due group-noted minutes (at most `limit` minutes) and
 * returns the (label, value, minute)s they named, for replaceNotedGroupMinutes in the same transaction.
 * A minute the tenant has noted too is left: its claim recomputes every group of it (and deletes its
 * group notes), and until then reads answer it live. The caller does not hold the label versions lock
 * (decision 0115): a label write may commit between this claim and the recomputation. Its versions are
 * then in the recomputation's later snapshot, and its own notes, which this claim did not see, stay for
 * a later round; every note deleted here was written before the recomputation's snapshot, so the
 * change behind it is counted. A rollback restores them.
 */
export async function claimGroupNotes(db: Queryable, query: ClaimGroupNotesQuery): Promise<GroupMinute[]> {
  const result = await db.query<{ label: string; label_value: string; ms: number }>({
    name: 'claim-group-notes',
    // Shaped so that no estimate can make it a nested loop (decision 0095): the churned-table vacuum
    // counts group_dirty and aggregate_dirty while they are nearly empty, and with a guess of one row
    // the planner re-ran the whole `minutes` query once per group note, itself an anti join over the
    // tenant's notes: 60.5 s for 600 group notes beside 2,250 notes (hostile review, 2026-12-01),
    // 8.5 ms in this form. The minutes are computed once (MATERIALIZED) and handed to the delete as
    // an array; the notes are a hashed NOT IN.
    text: `WITH minutes AS MATERIALIZED (
             SELECT DISTINCT g.bucket FROM group_dirty g
              WHERE g.tenant_id = $1 AND g.bucket <= $2::timestamptz - interval '1 minute'
                AND g.bucket NOT IN (SELECT a.bucket FROM aggregate_dirty a WHERE a.tenant_id = $1)
              ORDER BY g.bucket LIMIT $3
           ), claimed AS (
             DELETE FROM group_dirty d
              WHERE d.tenant_id = $1 AND d.bucket = ANY (ARRAY(SELECT bucket FROM minutes))
             RETURNING d.label, d.label_value, d.bucket
           )
           SELECT DISTINCT label, label_value, (extract(epoch FROM bucket) * 1000)::float8 AS ms FROM claimed ORDER BY 3, 1, 2`,
    values: [query.tenantId, query.closedBy, query.limit],
  });
  return result.rows.map((row) => ({ label: row.label, labelValue: row.label_value, bucket: new Date(row.ms).toISOString() }));
}
