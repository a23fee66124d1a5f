import type { Job, Queue } from 'bullmq';
import { UUID_PATTERN, type Config, type IngestJobData } from '@strata/core';
import type { CliIo } from '../cli-io.ts';
import { deleteStagedBatches } from '../queries/delete-staged-batches.ts';
import { withCliPool } from './with-cli-pool.ts';
import { withCliQueue } from './with-cli-queue.ts';

const USAGE = 'usage: pnpm ops dlq jobs list [--json] | dlq jobs retry <job-id>|--all | dlq jobs drop <job-id>\n';
const PAGE = 500;
/** Bounds `retry --all` (PAGE × this many jobs); run it again for a larger failed set. */
const MAX_PAGES = 200;

/**
 * BullMQ's failed set of the ingest queue: whole jobs, not events. Refused events never land here
 * (the projector dead-letters them one by one, see dlq-command.ts); what does is a job whose
 * payload is not a batch (foreign or corrupted: the staging sweeper rebuilds such a batch from its
 * staged rows, so it pins nothing) or a valid batch whose transient failures outlasted its attempts
 * (its staged rows stay, and keep their days from retention, until it is retried or dropped).
 * `retry` puts jobs back with fresh attempts; `drop` gives a job up for good, staged rows included
 * (else the staging sweeper would find the batch jobless and enqueue it again).
 */
export async function dlqJobsCommand(args: string[], config: Config, io: CliIo): Promise<number> {
  const [action, target] = args;
  if (action === 'list') return withCliQueue(config, (queue) => list(queue, io, args.includes('--json')));
  if (action === 'retry' && target) return withCliQueue(config, (queue) => retry(queue, io, target));
  if (action === 'drop' && target && target !== '--all') return withCliQueue(config, (queue) => drop(queue, config, io, target));
  io.stderr.write(USAGE);
  return 2;
}

async function list(queue: Queue<IngestJobData>, io: CliIo, json: boolean): Promise<number> {
  const total = await queue.getFailedCount();
  const jobs = await queue.getFailed(0, PAGE - 1);
  const items = jobs.map((job) => ({
    id: job.id,
    events: Array.isArray(job.data?.events) ? job.data.events.length : null,
    attempts: job.attemptsMade,
    failedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
    reason: job.failedReason,
  }));
  if (json) {
    io.stdout.write(`${JSON.stringify({ total, items })}\n`);
    return 0;
  }
  for (const item of items) io.stdout.write(`${item.id}  events=${item.events ?? '?'}  attempts=${item.attempts}  failedAt=${item.failedAt ?? '?'}  ${item.reason}\n`);
  io.stderr.write(`${total} failed job${total === 1 ? '' : 's'}${total > items.length ? ` (first ${items.length} shown)` : ''}\n`);
  return 0;
}

async function retry(queue: Queue<IngestJobData>, io: CliIo, target: string): Promise<number> {
  if (target !== '--all') {
    const job = await failedJob(queue, io, target);
    if (!job) return 1;
    await retryJob(job);
    io.stdout.write(`${JSON.stringify({ retried: 1 })}\n`);
    return 0;
  }
  let retried = 0;
  for (let page = 0; page < MAX_PAGES; page++) {
    // Retried jobs leave the failed set, so the first page is always the next one.
    const jobs = await queue.getFailed(0, PAGE - 1);
    if (jobs.length === 0) break;
    for (const job of jobs) await retryJob(job);
    retried += jobs.length;
  }
  io.stdout.write(`${JSON.stringify({ retried })}\n`);
  return 0;
}

async function drop(queue: Queue<IngestJobData>, config: Config, io: CliIo, target: string): Promise<number> {
  const job = await failedJob(queue, io, target);
  if (!job) return 1;
  const batchId = job.data?.batchId;
  // Staged rows first: if the job went first and we died in between, the sweeper would revive the batch.
  const stagedRows = typeof batchId === 'string' && UUID_PATTERN.test(batchId) ? await withCliPool(config, (pool) => deleteStagedBatches(pool, [batchId])) : 0;
  await job.remove();
  io.stdout.write(`${JSON.stringify({ dropped: job.id, stagedRows })}\n`);
  return 0;
}

async function failedJob(queue: Queue<IngestJobData>, io: CliIo, id: string): Promise<Job<IngestJobData> | undefined> {
  const job = await queue.getJob(id);
  if (job && (await job.isFailed())) return job;
  io.stderr.write(`ops dlq: no failed job ${JSON.stringify(id)}\n`);
  return undefined;
}

/** Fresh attempts: the batch gets the full retry budget again, as if newly enqueued. */
async function retryJob(job: Job<IngestJobData>): Promise<void> {
  await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
}
