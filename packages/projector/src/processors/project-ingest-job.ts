import type { Job } from 'bullmq';
import type { CallBatcher, Clock, IngestJobData, Logger } from '@strata/core';
import type { ProjectorMetrics } from '../metrics.ts';
import type { DrainedBatch } from '../queries/project-batch.ts';
import type { BatchOutcome } from './batch-drains.ts';

export interface ProjectIngestJobDeps {
  logger: Logger;
  clock: Clock;
  metrics: ProjectorMetrics;
  drains: CallBatcher<DrainedBatch, BatchOutcome>;
}

/**
 * Projects one batch — in a drain with the other jobs active at once, from its staged rows, or from the
 * job's own copy of the events when staging lost them in a crash (decision 0068) — and completes once
 * its drain's states are written through to the cache (once per drain, batch-drains.ts; a failed
 * cache write is logged and counted there, never a reason to redo the projection).
 */
export async function projectIngestJob(deps: ProjectIngestJobDeps, job: Job<IngestJobData>): Promise<{ inserted: number; refused: number }> {
  const { batchId, events, acceptedAt } = job.data;
  const started = performance.now();
  const result = await deps.drains.submit({ batchId, events });
  deps.metrics.flushDuration.observe((performance.now() - started) / 1000);
  deps.metrics.batchEvents.observe(events.length);
  deps.metrics.eventsProjected.inc({ result: 'inserted' }, result.inserted);
  deps.metrics.eventsProjected.inc({ result: 'duplicate' }, events.length - result.inserted - result.refused);
  deps.metrics.eventsProjected.inc({ result: 'dead_lettered' }, result.refused);
  deps.metrics.projectionLag.observe(Math.max(0, deps.clock.now() - acceptedAt) / 1000);
  await result.cached;
  return { inserted: result.inserted, refused: result.refused };
}
