import type { Queryable } from '@strata/core';

const SQL = 'DELETE FROM staging_events WHERE batch_id = $1';

/** Removes a projected batch's staged rows (strong reads stop merging them). */
export async function unstageBatch(db: Queryable, batchId: string): Promise<void> {
  await db.query({ name: 'unstage-batch', text: SQL, values: [batchId] });
}
