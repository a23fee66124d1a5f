import { Worker } from 'bullmq';
import { INGEST_QUEUE, type IngestJobData } from '@strata/core';
import type { ProjectorDeps } from './deps.ts';
import { processIngestJob } from './processors/process-ingest-job.ts';

/*
 * Stalled-job recovery, tuned so the batches of a worker killed with `kill -9` are retried within
 * seconds (BullMQ's defaults wait 30 s and dead-letter a job after its first stall):
 *  - the lock of an active job is renewed every LOCK_MS / 2 and lapses LOCK_MS after the worker dies;
 *  - every worker checks for lapsed locks every STALLED_INTERVAL_MS and moves those jobs back to wait;
 *  - a job may stall this many times before it is dead-lettered: a crash is rarely the batch's fault,
 *    but a batch that kills every worker that takes it must stop somewhere.
 * A lock that lapses on a live but blocked worker lets a second worker take the batch too: harmless,
 * because the projection is idempotent (history ON CONFLICT DO NOTHING, rollups from new rows only).
 */
export const LOCK_MS = 10_000;
export const STALLED_INTERVAL_MS = 3_000;
export const MAX_STALLED_COUNT = 10;

/** The ingest worker, not yet running (service.ts runs it). See processIngestJob for what a failure does to a batch. */
export function buildWorkers(deps: ProjectorDeps): Worker<IngestJobData> {
  const worker = new Worker<IngestJobData>(INGEST_QUEUE, (job, token) => processIngestJob(deps, job, token), {
    connection: deps.queueRedis,
    prefix: deps.config.redisPrefix,
    concurrency: deps.config.projectorConcurrency,
    autorun: false,
    lockDuration: LOCK_MS,
    stalledInterval: STALLED_INTERVAL_MS,
    maxStalledCount: MAX_STALLED_COUNT,
  });
  worker.on('completed', () => deps.metrics.jobs.inc({ outcome: 'completed' }));
  worker.on('failed', (job, error) => {
    const final = error.name === 'UnrecoverableError' || (job !== undefined && job.attemptsMade >= (job.opts.attempts ?? 1));
    deps.metrics.jobs.inc({ outcome: final ? 'dead_lettered' : 'retried' });
    deps.logger.warn({ err: error, batchId: job?.data.batchId, attempt: job?.attemptsMade, deadLettered: final }, 'batch projection failed');
  });
  worker.on('stalled', (jobId) => {
    deps.metrics.jobs.inc({ outcome: 'stalled' });
    deps.logger.warn({ batchId: jobId }, 'batch stalled (its worker died or blocked); retrying it');
  });
  worker.on('error', (error) => deps.logger.warn({ err: error }, 'worker error'));
  return worker;
}
