import type { BatchEvent, Pool } from '@strata/core';
import { projectBatch, type ProjectedState } from '../queries/project-batch.ts';
import { classifyFailure } from './classify-failure.ts';
import { refusedEvent, type RefusedEvent } from './refused-event.ts';

export interface SplitProjection {
  inserted: number;
  /** States of every projected part, in projection order (a device may appear once per part). */
  states: ProjectedState[];
  refused: RefusedEvent[];
  /** Projection statements run, the whole batch's failed one not included. */
  parts: number;
}

/**
 * Projects a batch that PostgreSQL refused as a whole (a data-class error: batches mix tenants, and
 * one tenant's event must not fail another's): halves it, recursively, each part in its own
 * statement and transaction, until every refused event stands alone. Those are returned, everything
 * else is projected. A part that fails for another reason (database away, deadlock) throws: the job
 * is retried and starts over, and the parts that committed before insert nothing the second time
 * (history skips stored rows; rollups, counts and device_state only take rows really inserted).
 * The batch is neither unstaged nor marked applied here: finishSplitBatch does that once, at the end.
 * Cost: about 2·log2(n) statements per refused event.
 */
export async function projectSplittingRefused(pool: Pool, batchId: string, events: BatchEvent[]): Promise<SplitProjection> {
  const outcome: SplitProjection = { inserted: 0, states: [], refused: [], parts: 0 };
  const project = async (part: BatchEvent[]): Promise<void> => {
    outcome.parts++;
    try {
      const result = await projectBatch(pool, batchId, part, { whole: false });
      outcome.inserted += result.inserted;
      outcome.states.push(...result.states);
    } catch (error) {
      if (classifyFailure(error) !== 'poison') throw error;
      if (part.length === 1) {
        outcome.refused.push(refusedEvent(part[0] as BatchEvent, error));
        return;
      }
      await split(part);
    }
  };
  const split = async (part: BatchEvent[]): Promise<void> => {
    const middle = Math.ceil(part.length / 2);
    await project(part.slice(0, middle));
    await project(part.slice(middle));
  };
  // A batch of one is run again as a part, so its dead letter carries the reason of its own statement.
  await (events.length === 1 ? project(events) : split(events));
  return outcome;
}
