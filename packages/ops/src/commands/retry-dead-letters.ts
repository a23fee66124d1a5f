import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import { INGEST_JOB, ingestJobOptions, type BatchEvent, type IngestJobData, type Pool } from '@strata/core';
import { deleteProjectedDeadLetters } from '../queries/delete-projected-dead-letters.ts';
import { isBatchApplied } from '../queries/is-batch-applied.ts';
import { selectDeadLetterEvents } from '../queries/select-dead-letter-events.ts';

/** Events per retry batch: one job, split by the projector like any batch if some are refused again. */
const RETRY_BATCH = 500;

export interface RetryOptions {
  attempts: number;
  /** How long to wait for each retry batch to be applied before reporting it pending. */
  waitMs: number;
  pollMs?: number;
}

export interface RetrySummary {
  retried: number;
  projected: number;
  refused: number;
  /** In retry batches not applied within waitMs (no projector running?): retry them again later. */
  pending: number;
}

/**
 * Retries dead letters through the projector's own path: their stored events go into the ingest
 * queue as a new batch, which the projector projects exactly like any other (history dedup, rollups
 * from new rows, per-value merge; a part refused again is split off and its dead letter updated with
 * the new reason, in the batch's transaction). Once the batch is applied, the dead letters it did not
 * touch were projected and are removed. Re-running a retry is harmless: what is stored is skipped.
 */
export async function retryDeadLetters(pool: Pool, queue: Queue<IngestJobData>, ids: string[] | null, options: RetryOptions): Promise<RetrySummary> {
  const summary: RetrySummary = { retried: 0, projected: 0, refused: 0, pending: 0 };
  let afterId = '0';
  for (;;) {
    const letters = await selectDeadLetterEvents(pool, ids, afterId, RETRY_BATCH);
    if (letters.length === 0) break;
    afterId = letters.at(-1)?.id ?? afterId;
    const batchId = randomUUID();
    const events = letters.map((letter) => JSON.parse(letter.event) as BatchEvent);
    await queue.add(INGEST_JOB, { batchId, acceptedAt: Date.now(), events }, ingestJobOptions(batchId, options.attempts));
    summary.retried += letters.length;
    if (!(await waitForApplied(pool, batchId, options))) {
      summary.pending += letters.length;
      continue;
    }
    const projected = await deleteProjectedDeadLetters(pool, letters.map((letter) => letter.id), batchId);
    summary.projected += projected;
    summary.refused += letters.length - projected;
  }
  return summary;
}

async function waitForApplied(pool: Pool, batchId: string, options: RetryOptions): Promise<boolean> {
  const deadline = Date.now() + options.waitMs;
  for (;;) {
    if (await isBatchApplied(pool, batchId)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 100));
  }
}
