import type { Job, Queue } from 'bullmq';
import { INGEST_JOB, ingestJobOptions, type IngestJobData, type Pool } from '@strata/core';
import { deleteStagedBatches } from '../queries/delete-staged-batches.ts';
import { listStrandedBatches } from '../queries/list-stranded-batches.ts';
import { selectStagedBatch } from '../queries/select-staged-batch.ts';
import { runLocked } from './run-locked.ts';

export const STAGING_SWEEP_LOCK = 'strata-staging-sweep';
/** Batches looked at per run; a backlog larger than this drains over the next runs. */
const BATCHES_PER_RUN = 200;

export interface SweepStagingDeps {
  pool: Pool;
  ingestQueue: Queue<IngestJobData>;
  /** Only batches staged longer ago than this are considered: younger ones are still in flight. */
  minAgeMs: number;
  /** Attempts of a re-enqueued job, as command-api would have set them. */
  attempts: number;
}

/** The projector fails a job at once, with this reason, when its payload is not a batch (checkJobData). */
const INVALID_PAYLOAD = 'invalid payload:';

async function failedForItsPayload(job: Job<IngestJobData>): Promise<boolean> {
  return (job.failedReason ?? '').startsWith(INVALID_PAYLOAD) && (await job.isFailed());
}

export type SweepOutcome = { result: 'skipped' } | { result: 'completed'; requeued: string[]; leftoverRows: number; inQueue: number };

/**
 * One pass of the staging sweeper. A staged batch is done iff applied_batches has it; otherwise its
 * job must exist in the queue (waiting, active, delayed, or failed after its attempts). A batch that
 * is neither was acknowledged and then lost its job (Redis lost its data, or command-api died
 * between the two writes), and one whose job failed for an unreadable payload lost it as surely:
 * it is re-enqueued from its staged rows under the same job id, which is the batch
 * id its token names. Adding a job whose id exists is a no-op, and projection is idempotent, so a
 * race with command-api or the projector costs at most a duplicate projection that inserts nothing.
 * Staged rows of applied batches are leftovers and are deleted.
 */
export async function sweepStaging(deps: SweepStagingDeps): Promise<SweepOutcome> {
  const outcome = await runLocked(deps.pool, STAGING_SWEEP_LOCK, async (client) => {
    const batches = await listStrandedBatches(client, deps.minAgeMs, BATCHES_PER_RUN);
    const leftoverRows = await deleteStagedBatches(client, batches.filter((batch) => batch.applied).map((batch) => batch.batchId));
    const requeued: string[] = [];
    let inQueue = 0;
    for (const batch of batches.filter((candidate) => !candidate.applied)) {
      const job = await deps.ingestQueue.getJob(batch.batchId);
      if (job && !(await failedForItsPayload(job))) {
        inQueue++;
        continue;
      }
      const events = await selectStagedBatch(client, batch.batchId);
      if (events.length === 0) continue; // projected and unstaged since we listed it
      if (job) {
        // The job's payload was unreadable but the staged copy is intact: replace the job with it,
        // so a corrupted job neither loses the batch nor pins its days. A staged copy that is the
        // very payload that failed would fail again: it stays for an operator (`dlq jobs`).
        if (JSON.stringify(job.data?.events) === JSON.stringify(events)) {
          inQueue++;
          continue;
        }
        await job.remove();
      }
      await deps.ingestQueue.add(INGEST_JOB, { batchId: batch.batchId, acceptedAt: batch.acceptedAt, events }, ingestJobOptions(batch.batchId, deps.attempts));
      requeued.push(batch.batchId);
    }
    return { requeued, leftoverRows, inQueue };
  });
  return outcome.locked ? { result: 'completed', ...outcome.value } : { result: 'skipped' };
}
