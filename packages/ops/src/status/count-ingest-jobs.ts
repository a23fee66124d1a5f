import type { Queue } from 'bullmq';

export const INGEST_JOB_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const;
export type IngestJobState = (typeof INGEST_JOB_STATES)[number];

/** Jobs of the ingest queue by state, in one round trip: the health report and the metrics read the same counts. */
export async function countIngestJobs(queue: Queue): Promise<Record<IngestJobState, number>> {
  const counts = await queue.getJobCounts(...INGEST_JOB_STATES);
  return Object.fromEntries(INGEST_JOB_STATES.map((state) => [state, counts[state] ?? 0])) as Record<IngestJobState, number>;
}
