import { randomUUID } from 'node:crypto';
import type { Pool } from '@strata/core';
import { projectBatch } from '@strata/projector/project-batch';
import { refreshAllAggregates } from './refresh-all-aggregates.ts';
import { toBatchEvent, type SeedEvent } from './seed-event.ts';

export interface SeedEventsOptions {
  /** Run the aggregate refresher afterwards (default true); false leaves the minutes noted, as right after a projection. */
  refresh?: boolean;
}

/**
 * Seeds every read model the way production fills it: the projector's own projection statement
 * (history, device_state, applied_batches, the minutes noted for aggregation) as one batch, then
 * the projector's aggregate refresher (rollups, event counts) until no ended minute is left noted.
 * Tests never write read-model tables by hand, so they cannot drift from the projection's rules.
 * Resolves with the batch id (a token's batch).
 */
export async function seedEvents(pool: Pool, events: SeedEvent[], options: SeedEventsOptions = {}): Promise<string> {
  const batchId = randomUUID();
  if (events.length === 0) return batchId;
  await projectBatch(pool, batchId, events.map(toBatchEvent));
  if (options.refresh ?? true) await refreshAllAggregates(pool);
  return batchId;
}
