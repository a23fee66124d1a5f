import { withTransaction, type Pool } from '@strata/core';
import { markBatchApplied } from '../queries/mark-batch-applied.ts';
import { recordDeadLetters } from '../queries/record-dead-letters.ts';
import { unstageBatch } from '../queries/unstage-batch.ts';
import { deadLetterRows, type RefusedEvent } from './refused-event.ts';

/**
 * Ends a split batch as a projected one, in one transaction: marked applied (tokens wait for this,
 * so `after=` sees the batch only once every part is in), its refused events dead-lettered one row
 * each, its staged rows removed. A batch already marked (a duplicate run of a done job) records
 * nothing again, so dead letters an operator has since retried or dropped do not come back.
 */
export async function finishSplitBatch(pool: Pool, batchId: string, eventCount: number, inserted: number, refused: RefusedEvent[]): Promise<void> {
  await withTransaction(pool, async (client) => {
    if (await markBatchApplied(client, batchId, eventCount, inserted)) await recordDeadLetters(client, batchId, deadLetterRows(refused));
    await unstageBatch(client, batchId);
  });
}
