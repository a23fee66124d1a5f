import type { Queryable } from '@strata/core';

export interface ClaimDirtyMinutesQuery {
  tenantId: string;
  /** Only minutes that ended at or before this instant (ISO-8601) are claimed. */
  closedBy: string;
  limit: number;
  /**
   * An ended minute noted within this many milliseconds (by the database's clock) waits, at most until
   * it ended a minute ago: its events are still landing, behind a backlog (decision 0093). 0: none waits.
   */
  settleMs: number;
}

/** Claimed minutes, ISO-8601, oldest first; `labelled`: those of them a note said hold rows with labels. */
export interface ClaimedMinutes {
  minutes: string[];
  labelled: string[];
}

/**
 * Deletes the notes of a tenant's oldest due minutes (at most `limit` minutes) and returns those
 * minutes, with the ones whose new rows carried labels (the refresher folds their label samples).
 * Meant for the refresher's transaction: it recomputes them next, in a later statement whose snapshot
 * sees every event whose note this one deleted (a note commits with its events). Notes committed after
 * this statement stay and bring the minute back in a later round. A rollback restores the notes. The
 * claimed minutes' group heads go with their notes (decision 0085: migration 0022's trigger on
 * aggregate_dirty).
 *
 * A minute whose notes are still coming (a backlog's drains reaching it) waits until they stop for
 * `settleMs`, or until it ended a minute ago: each claim recomputes the whole minute (decision 0093).
 * The cap keeps it within the two minutes whose group heads the refresher advances (advance-group-heads.ts).
 */
export async function claimDirtyMinutes(db: Queryable, query: ClaimDirtyMinutesQuery): Promise<ClaimedMinutes> {
  const result = await db.query<{ ms: number; labelled: boolean }>({
    name: 'claim-dirty-minutes',
    text: `WITH minutes AS (
             -- The oldest due minutes: ended, and settled (no note for $4 ms) or ended a minute ago. The
             -- grouping walks the (tenant, bucket) index in order and stops at the limit.
             SELECT bucket FROM aggregate_dirty
              WHERE tenant_id = $1 AND bucket <= $2::timestamptz - interval '1 minute'
              GROUP BY bucket
             HAVING max(noted_at) <= statement_timestamp() - $4::int * interval '1 millisecond'
                 OR bucket <= $2::timestamptz - interval '2 minutes'
              ORDER BY bucket LIMIT $3
           ), claimed AS (
             -- Every note of this snapshot of those minutes (a settling minute before them stays noted).
             DELETE FROM aggregate_dirty d
              WHERE d.tenant_id = $1 AND d.bucket = ANY (ARRAY(SELECT bucket FROM minutes))
             RETURNING d.bucket, d.labelled
           )
           SELECT (extract(epoch FROM bucket) * 1000)::float8 AS ms, bool_or(labelled) AS labelled FROM claimed GROUP BY 1 ORDER BY 1`,
    values: [query.tenantId, query.closedBy, query.limit, query.settleMs],
  });
  const claimed: ClaimedMinutes = { minutes: [], labelled: [] };
  for (const row of result.rows) {
    const minute = new Date(row.ms).toISOString();
    claimed.minutes.push(minute);
    if (row.labelled) claimed.labelled.push(minute);
  }
  return claimed;
}
