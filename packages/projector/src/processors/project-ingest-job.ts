import type { Job } from 'bullmq';
import type { CallBatcher, Clock, Config, IngestJobData, Logger, Redis } from '@strata/core';
import { writeThroughStates } from '../cache/write-through-states.ts';
import type { ProjectorMetrics } from '../metrics.ts';
import type { DrainedBatch } from '../queries/project-batch.ts';
import type { BatchOutcome } from './batch-drains.ts';

export interface ProjectIngestJobDeps {
  logger: Logger;
  clock: Clock;
  /** The latest-state cache and live channel. */
  cache: Redis;
  metrics: ProjectorMetrics;
  drains: CallBatcher<DrainedBatch, BatchOutcome>;
  config: Pick<Config, 'redisPrefix' | 'cacheTtlSeconds' | 'liveStreamMaxBytes'>;
}

/**
 * Projects one batch — in a drain with the other jobs active at once, from its staged rows, or from the
 * job's own copy of the events when staging lost them in a crash (decision 0068) — then writes the new
 * states through to the cache. The database is the
 * truth: a failed cache write is logged and counted, never a reason to redo the projection.
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

  try {
    const options = { prefix: deps.config.redisPrefix, ttlSeconds: deps.config.cacheTtlSeconds, liveStreamMaxBytes: deps.config.liveStreamMaxBytes };
    const written = await writeThroughStates(deps.cache, options, result.states);
    deps.metrics.cacheWrites.inc({ outcome: 'written' }, written);
    deps.metrics.cacheWrites.inc({ outcome: 'stale' }, result.states.length - written);
  } catch (error) {
    deps.metrics.cacheWrites.inc({ outcome: 'error' }, result.states.length);
    deps.logger.warn({ err: error, batchId }, 'cache write-through failed; cache reads fall back to the database');
  }
  return { inserted: result.inserted, refused: result.refused };
}
