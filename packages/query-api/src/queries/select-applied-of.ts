import type { Queryable } from '@strata/core';

// One primary-key probe per id: the projection waiter asks for every read waiting at once.
const SQL = 'SELECT batch_id::text AS batch_id FROM applied_batches WHERE batch_id = ANY($1::uuid[])';

/** Which of `batchIds` this node has applied. */
export async function selectAppliedOf(db: Queryable, batchIds: string[]): Promise<string[]> {
  const result = await db.query<{ batch_id: string }>({ name: 'query-select-applied-of', text: SQL, values: [batchIds] });
  return result.rows.map((row) => row.batch_id);
}
