import type { Queryable } from '@strata/core';

const SQL = `
  INSERT INTO applied_batches (batch_id, event_count, inserted) VALUES ($1, $2, $3)
  ON CONFLICT (batch_id) DO NOTHING
  RETURNING batch_id`;

/** Marks a batch applied (what tokens wait for); false when it already was (a re-run of a done batch). */
export async function markBatchApplied(db: Queryable, batchId: string, eventCount: number, inserted: number): Promise<boolean> {
  const result = await db.query({ name: 'mark-batch-applied', text: SQL, values: [batchId, eventCount, inserted] });
  return (result.rowCount ?? 0) > 0;
}
