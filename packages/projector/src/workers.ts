import { Worker } from 'bullmq';
import { INGEST_QUEUE, type IngestJobData } from '@strata/core';
import type { ProjectorDeps } from './deps.ts';
import { processIngestJob } from './processors/process-ingest-job.ts';

/** The ingest worker. Failed jobs retry with the backoff set when they were added, then stay in the failed set. */
export function buildWorkers(deps: ProjectorDeps): Worker<IngestJobData> {
  const worker = new Worker<IngestJobData>(INGEST_QUEUE, (job) => processIngestJob(deps, job), {
    connection: deps.queueRedis,
    prefix: deps.config.redisPrefix,
    concurrency: deps.config.projectorConcurrency,
    autorun: false,
  });
  worker.on('completed', () => deps.metrics.jobs.inc({ outcome: 'completed' }));
  worker.on('failed', (job, error) => {
    deps.metrics.jobs.inc({ outcome: 'failed' });
    deps.logger.warn({ err: error, batchId: job?.data.batchId, attempt: job?.attemptsMade }, 'batch projection failed');
  });
  worker.on('error', (error) => deps.logger.warn({ err: error }, 'worker error'));
  return worker;
}
