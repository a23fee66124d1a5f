import type { Queryable } from '@strata/core';

// A primary-key lookup: cheap enough to run before every token read on a replica.
const SQL = 'SELECT EXISTS (SELECT 1 FROM applied_batches WHERE batch_id = $1::uuid) AS applied';

/** Whether this node (primary or replica) has applied the batch a consistency token names. */
export async function selectBatchApplied(db: Queryable, batchId: string): Promise<boolean> {
  const result = await db.query<{ applied: boolean }>({ name: 'query-select-batch-applied', text: SQL, values: [batchId] });
  return result.rows[0]?.applied === true;
}
