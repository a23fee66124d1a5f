import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { IngestJobData } from '@strata/core';
import { checkJobData } from './check-job-data.ts';
import { classifyFailure } from './classify-failure.ts';
import { projectIngestJob, type ProjectIngestJobDeps } from './project-ingest-job.ts';

/** How long a batch waits when the database is away before it is tried again. */
export const DEFER_MS = 2000;
/**
 * Deferrals do not use up attempts, but a batch must not circle forever if "unavailable" was a
 * misreading: after this many starts (about 30 minutes of outage) failures count as attempts again.
 */
export const MAX_STARTS_BEFORE_COUNTING = 900;

/**
 * The worker's processor: decides what a failure means for the batch. A payload that can never be
 * projected (a foreign or corrupted job) is failed at once (UnrecoverableError: one attempt, then
 * BullMQ's failed set; the staging sweeper rebuilds such a batch from its staged rows, so it pins
 * nothing). Events PostgreSQL refuses never fail their batch: projectIngestJob splits it and
 * dead-letters only those events; a data error that still escapes (the dead-letter write itself
 * refused) fails the job as before. A database that is away defers the batch without spending an
 * attempt, so an outage longer than the backoff cannot fail good batches. Anything else retries
 * with the job's backoff and lands in the failed set when its attempts run out.
 */
export async function processIngestJob(deps: ProjectIngestJobDeps, job: Job<IngestJobData>, token?: string): Promise<{ inserted: number; refused: number }> {
  const problem = checkJobData(job.data);
  if (problem) throw new UnrecoverableError(`invalid payload: ${problem}`);
  try {
    return await projectIngestJob(deps, job);
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
