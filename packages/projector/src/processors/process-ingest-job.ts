import type { Job } from 'bullmq';
import type { BatchEvent, IngestJobData } from '@strata/core';
import { writeThroughStates } from '../cache/write-through-states.ts';
import type { ProjectorDeps } from '../deps.ts';
import { projectBatch, type ProjectedState } from '../queries/project-batch.ts';
import { classifyFailure } from './classify-failure.ts';
import { finishSplitBatch } from './finish-split-batch.ts';
import { projectSplittingRefused } from './project-splitting-refused.ts';

interface BatchOutcome {
  inserted: number;
  states: ProjectedState[];
  refused: number;
}

/**
 * Projects one batch from the job's own copy of the events (staging may have been truncated by a
 * crash; the job never is), then writes the new states through to the cache. The database is the
 * truth: a failed cache write is logged and counted, never a reason to redo the projection.
 */
export async function processIngestJob(deps: ProjectorDeps, job: Job<IngestJobData>): Promise<{ inserted: number; refused: number }> {
  const { batchId, events, acceptedAt } = job.data;
  const started = performance.now();
  const result = await projectIsolatingRefused(deps, batchId, events);
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

/**
 * The whole batch in one statement (the common case), or, when PostgreSQL refuses it for its data,
 * split until the refused events stand alone: they are dead-lettered one by one, the rest projected,
 * and the batch then ends like any other (applied, unstaged). Other failures throw to the job.
 */
async function projectIsolatingRefused(deps: ProjectorDeps, batchId: string, events: BatchEvent[]): Promise<BatchOutcome> {
  try {
    return { ...(await projectBatch(deps.pool, batchId, events)), refused: 0 };
  } catch (error) {
    if (classifyFailure(error) !== 'poison') throw error;
    const split = await projectSplittingRefused(deps.pool, batchId, events);
    await finishSplitBatch(deps.pool, batchId, events.length, split.inserted, split.refused);
    deps.metrics.batchesSplit.inc();
    deps.logger.warn(
      { batchId, events: events.length, parts: split.parts, refused: split.refused.map((r) => ({ tenantId: r.event.tenantId, device: r.event.device, sqlstate: r.sqlstate })) },
      'batch refused by the database: split, refused events dead-lettered, the rest projected',
    );
    return { inserted: split.inserted, states: split.states, refused: split.refused.length };
  }
}
