import type { Queryable } from '@strata/core';

const SQL = 'DELETE FROM staging_events WHERE batch_id = $1';

/** Undo a staging write whose queue job could not be added, so a refused batch leaves nothing behind. */
export async function deleteStagedBatch(db: Queryable, batchId: string): Promise<void> {
  await db.query({ name: 'delete-staged-batch', text: SQL, values: [batchId] });
}
