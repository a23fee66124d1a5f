import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { IngestJobData } from '@strata/core';
import type { ProjectorDeps } from '../deps.ts';
import { checkJobData } from './check-job-data.ts';
import { classifyFailure } from './classify-failure.ts';
import { processIngestJob } from './process-ingest-job.ts';

/** How long a batch waits when the database is away before it is tried again. */
export const DEFER_MS = 2000;
/**
 * Deferrals do not use up attempts, but a batch must not circle forever if "unavailable" was a
 * misreading: after this many starts (about 30 minutes of outage) failures count as attempts again.
 */
export const MAX_STARTS_BEFORE_COUNTING = 900;

/**
 * The worker's processor: decides what a failure means for the batch. A payload that can never be
 * projected, or a data error from PostgreSQL, is dead-lettered at once (UnrecoverableError: one
 * attempt, then the failed set). A database that is away defers the batch without spending an
 * attempt, so an outage longer than the backoff cannot dead-letter good batches. Anything else
 * retries with the job's backoff and is dead-lettered when its attempts run out.
 */
export async function handleIngestJob(deps: ProjectorDeps, job: Job<IngestJobData>, token?: string): Promise<{ inserted: number }> {
  const problem = checkJobData(job.data);
  if (problem) throw new UnrecoverableError(`invalid payload: ${problem}`);
  try {
    return await processIngestJob(deps, job);
  } catch (error) {
    const kind = classifyFailure(error);
    const reason = describe(error);
    if (kind === 'poison') throw new UnrecoverableError(`cannot be projected: ${reason}`);
    if (kind === 'unavailable' && token && job.attemptsStarted <= MAX_STARTS_BEFORE_COUNTING) {
      await job.moveToDelayed(Date.now() + DEFER_MS, token);
      deps.metrics.jobs.inc({ outcome: 'deferred' });
      deps.logger.warn({ batchId: job.data.batchId, reason }, 'database unavailable; batch deferred');
      throw new DelayedError();
    }
    throw error;
  }
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? `${message} (${code})` : message;
}
