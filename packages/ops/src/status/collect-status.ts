import type { Queue } from 'bullmq';
import { withTimeout, type Clock, type Pool } from '@strata/core';
import { countDeadLetters } from '../queries/count-dead-letters.ts';
import { countStagingBacklog } from '../queries/count-staging-backlog.ts';
import { readAggregationBacklog } from '../queries/read-aggregation-backlog.ts';
import { readApplyRate } from '../queries/read-apply-rate.ts';
import { readHeartbeatAge } from '../queries/read-heartbeat-age.ts';
import { countIngestJobs } from './count-ingest-jobs.ts';
import { readPartitionView } from './read-partition-view.ts';
import { readRoutingView } from './read-routing-view.ts';
import type { StatusReport, StatusSection } from './status-report.ts';

export interface StatusSources {
  pool: Pool;
  ingestQueue: Queue;
  clock: Clock;
  retentionDays: number;
  /** query-api's base URL, asked for its replica and breaker view. */
  queryApiUrl: string;
  configuredReplicas: number;
}

/** Each source under this bound: a page polled every few seconds must not pile up slow reads. */
const SOURCE_TIMEOUT_MS = 2500;

/** Every reading at once, each on its own: a source that fails or hangs is reported, not thrown. */
export async function collectStatus(sources: StatusSources): Promise<StatusReport> {
  const { pool, ingestQueue, clock } = sources;
  const [ingest, staging, queue, deadLetters, partitions, aggregation, heartbeat, routing] = await Promise.all([
    section(async () => {
      const rate = await readApplyRate(pool);
      return { ...rate, eventsPerSecond10s: rate.events10s / 10, eventsPerSecond60s: rate.events60s / 60 };
    }),
    section(() => countStagingBacklog(pool)),
    section(() => countIngestJobs(ingestQueue)),
    section(() => countDeadLetters(pool)),
    section(() => readPartitionView(pool, clock.now(), sources.retentionDays)),
    section(() => readAggregationBacklog(pool)),
    section(async () => ({ ageMs: (await readHeartbeatAge(pool)) ?? null })),
    readRoutingView(sources.queryApiUrl, sources.configuredReplicas, SOURCE_TIMEOUT_MS),
  ]);
  return { checkedAt: new Date(clock.now()).toISOString(), ingest, staging, queue, deadLetters, partitions, aggregation, heartbeat, routing };
}

async function section<T extends object>(read: () => Promise<T>): Promise<StatusSection<T>> {
  try {
    return { ok: true, ...(await withTimeout(read(), SOURCE_TIMEOUT_MS)) };
  } catch (error) {
    // Messages of our own fixed statements and clients: no tenant data can be in them.
    const message = error instanceof Error ? error.message || error.name : String(error);
    return { ok: false, error: message.slice(0, 300) };
  }
}
