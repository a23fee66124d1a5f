import type { Queryable } from '@strata/core';

const SQL = 'DELETE FROM staging_events WHERE batch_id = ANY($1::uuid[])';

/** Removes the staged rows of whole batches (applied leftovers, or a dropped dead letter); returns rows deleted. */
export async function deleteStagedBatches(db: Queryable, batchIds: string[]): Promise<number> {
  if (batchIds.length === 0) return 0;
  const result = await db.query({ name: 'delete-staged-batches', text: SQL, values: [batchIds] });
  return result.rowCount ?? 0;
}
