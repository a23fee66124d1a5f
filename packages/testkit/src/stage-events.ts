import { randomUUID } from 'node:crypto';
import type { Queryable } from '@strata/core';
import { insertStagedEvents } from '@strata/command-api/insert-staged-events';
import { toBatchEvent, type SeedEvent } from './seed-event.ts';

/**
 * Stages events as one batch with command-api's own statement: accepted, not yet projected (what
 * strong and token reads merge). Resolves with the batch id.
 */
export async function stageEvents(db: Queryable, events: SeedEvent[], batchId: string = randomUUID()): Promise<string> {
  await insertStagedEvents(db, batchId, events.map(toBatchEvent));
  return batchId;
}
