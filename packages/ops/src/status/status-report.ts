import type { AggregationBacklog } from '../queries/read-aggregation-backlog.ts';
import type { ApplyRate } from '../queries/read-apply-rate.ts';
import type { StagingBacklog } from '../queries/count-staging-backlog.ts';
import type { IngestJobState } from './count-ingest-jobs.ts';
import type { PartitionView } from './read-partition-view.ts';
import type { RoutingView } from './read-routing-view.ts';

/** One source's reading, or why it could not be read: one failing source never blanks the others. */
export type StatusSection<T> = ({ ok: true } & T) | { ok: false; error: string };

/**
 * `GET /status.json`, what the status page polls. Counts and ages about the whole system only, the
 * same facts /metrics and /health already give anyone who reaches ops' port: no tenant ids, devices,
 * values or dead-letter reasons (those are behind a key, decision 0080).
 */
export interface StatusReport {
  checkedAt: string;
  /** Applied by the projector: events per second over the last 10 s and 60 s. */
  ingest: StatusSection<ApplyRate & { eventsPerSecond10s: number; eventsPerSecond60s: number }>;
  /** Accepted, not yet projected: what is staged, and the age of the oldest staged event (freshness). */
  staging: StatusSection<StagingBacklog>;
  /** The projector's queue by job state (`failed`: whole batches dead-lettered, `ops dlq jobs`). */
  queue: StatusSection<Record<IngestJobState, number>>;
  /** Dead-lettered events, all tenants together; the list is per tenant, behind a key. */
  deadLetters: StatusSection<{ events: number; tenants: number }>;
  partitions: StatusSection<PartitionView>;
  aggregation: StatusSection<AggregationBacklog>;
  /** Age of the heartbeat ops writes on the primary; replicas' lag is measured against it. */
  heartbeat: StatusSection<{ ageMs: number | null }>;
  routing: RoutingView;
}
