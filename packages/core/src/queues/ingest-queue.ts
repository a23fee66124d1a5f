import type { NormalizedEvent } from '../schemas/event.ts';

/** The BullMQ queue between command-api and projector. */
export const INGEST_QUEUE = 'ingest';
export const INGEST_JOB = 'batch';

/** One staged event together with its tenant (a batch may mix tenants); `labels` as NormalizedEvent's. */
export interface BatchEvent extends NormalizedEvent {
  tenantId: string;
}

/**
 * The job payload: a full copy of the batch. Staging is UNLOGGED and may be truncated by a crash,
 * so the job alone must be enough to project the batch.
 */
export interface IngestJobData {
  batchId: string;
  /** When command-api accepted the batch (epoch ms), for ingest-to-visible lag metrics. */
  acceptedAt: number;
  events: BatchEvent[];
}
