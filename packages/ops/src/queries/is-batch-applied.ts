import type { Queryable } from '@strata/core';

const SQL = 'SELECT 1 FROM applied_batches WHERE batch_id = $1';

/** Whether the projector has marked the batch applied (all of it projected, refused events recorded). */
export async function isBatchApplied(db: Queryable, batchId: string): Promise<boolean> {
  const result = await db.query({ name: 'is-batch-applied', text: SQL, values: [batchId] });
  return (result.rowCount ?? 0) > 0;
}
