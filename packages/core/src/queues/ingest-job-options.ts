import type { JobsOptions } from 'bullmq';

/**
 * How every ingest job is added, by command-api and by the staging sweeper alike. The job id is the
 * batch id, so adding a batch whose job still exists is a no-op, and a re-enqueued batch keeps the
 * id its token names. Failed jobs are kept: the failed set is the dead-letter set (`ops dlq`).
 */
export function ingestJobOptions(batchId: string, attempts: number): JobsOptions {
  return {
    jobId: batchId,
    attempts,
    backoff: { type: 'exponential', delay: 500 },
    removeOnComplete: { count: 1000 },
    removeOnFail: false,
  };
}
