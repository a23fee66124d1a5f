import type { Queryable } from '@strata/core';

// Once the retry batch is applied, a retried event that was refused again carries that batch as its
// last_batch_id (the projector updated its row in the batch's transaction); the others were projected.
const SQL = 'DELETE FROM dead_letters WHERE id = ANY($1::bigint[]) AND last_batch_id <> $2::uuid';

/** Removes the dead letters among `ids` that the applied retry batch `retryBatchId` projected; returns how many. */
export async function deleteProjectedDeadLetters(db: Queryable, ids: string[], retryBatchId: string): Promise<number> {
  const result = await db.query({ name: 'delete-projected-dead-letters', text: SQL, values: [ids, retryBatchId] });
  return result.rowCount ?? 0;
}
