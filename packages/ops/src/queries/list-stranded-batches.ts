import type { Queryable } from '@strata/core';

// All rows of a batch share received_at (one INSERT, one transaction), so the age filter keeps or
// drops whole batches. Oldest first, bounded, so one run never holds the lock for long.
const SQL = `
  SELECT s.batch_id,
         (extract(epoch FROM min(s.received_at)) * 1000)::float8 AS accepted_at,
         count(*)::int AS events,
         bool_or(a.batch_id IS NOT NULL) AS applied
    FROM staging_events s
    LEFT JOIN applied_batches a ON a.batch_id = s.batch_id
   WHERE s.received_at < clock_timestamp() - make_interval(secs => $1::float8 / 1000)
   GROUP BY s.batch_id
   ORDER BY min(s.received_at)
   LIMIT $2`;

interface Row {
  batch_id: string;
  accepted_at: number;
  events: number;
  applied: boolean;
}

export interface StagedBatch {
  batchId: string;
  /** When command-api staged it (epoch ms): the acceptance time a re-enqueued job carries. */
  acceptedAt: number;
  events: number;
  /** Already projected: its staged rows are leftovers to delete, not work to redo. */
  applied: boolean;
}

/** Staged batches older than `minAgeMs`: normally none, since projection deletes a batch's rows. */
export async function listStrandedBatches(db: Queryable, minAgeMs: number, limit: number): Promise<StagedBatch[]> {
  const result = await db.query<Row>({ name: 'list-stranded-batches', text: SQL, values: [minAgeMs, limit] });
  return result.rows.map((row) => ({ batchId: row.batch_id, acceptedAt: Math.round(row.accepted_at), events: row.events, applied: row.applied }));
}
