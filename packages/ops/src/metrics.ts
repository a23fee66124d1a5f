import { Counter, Gauge, type Registry } from 'prom-client';
import type { Clock, Logger, Pool } from '@strata/core';
import type { Queue } from 'bullmq';
import { missingPartitions } from './partitions/missing-partitions.ts';
import { countDeadLetters } from './queries/count-dead-letters.ts';
import { countStagingBacklog } from './queries/count-staging-backlog.ts';
import { listEventPartitions } from './queries/list-event-partitions.ts';

/** Days ahead (after today) whose partitions must exist; the premake job makes a week. */
export const PARTITION_LOOKAHEAD_DAYS = 7;

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const;

export interface OpsMetrics {
  jobRuns: Counter<'job' | 'result'>;
  heartbeatErrors: Counter;
  stagingSweeps: Counter<'result'>;
  batchesRequeued: Counter;
  leftoverRowsDeleted: Counter;
}

export interface OpsMetricSources {
  registry: Registry;
  pool: Pool;
  ingestQueue: Queue;
  clock: Clock;
  logger: Logger;
}

/**
 * The ops service's metrics. Gauges about shared state (partitions, staging, queue) are read at
 * scrape time, so every ops instance reports the same truth and nothing goes stale between runs.
 * A failing source leaves its gauge unset for that scrape rather than failing the whole scrape.
 */
export function createOpsMetrics(sources: OpsMetricSources): OpsMetrics {
  const { registry, pool, ingestQueue, clock } = sources;
  const safely = async (metric: string, read: () => Promise<void>): Promise<void> => {
    try {
      await read();
    } catch (error) {
      sources.logger.debug({ err: error, metric }, 'metric source unavailable');
    }
  };

  new Gauge({
    name: 'strata_event_partitions',
    help: 'Event history partitions attached to events, by kind (daily or default)',
    labelNames: ['kind'],
    registers: [registry],
    async collect() {
      await safely('strata_event_partitions', async () => {
        const partitions = await listEventPartitions(pool);
        this.set({ kind: 'daily' }, partitions.filter((partition) => !partition.isDefault).length);
        this.set({ kind: 'default' }, partitions.filter((partition) => partition.isDefault).length);
      });
    },
  });
  new Gauge({
    name: 'strata_event_partitions_missing',
    help: `Daily event partitions missing for today and the next ${PARTITION_LOOKAHEAD_DAYS} days (UTC)`,
    registers: [registry],
    async collect() {
      await safely('strata_event_partitions_missing', async () => {
        const names = (await listEventPartitions(pool)).map((partition) => partition.name);
        this.set(missingPartitions(names, clock.now(), PARTITION_LOOKAHEAD_DAYS).length);
      });
    },
  });
  new Gauge({
    name: 'strata_staging_backlog_events',
    help: 'Accepted events still in the staging table, not yet projected',
    registers: [registry],
    async collect() {
      await safely('strata_staging_backlog_events', async () => this.set((await countStagingBacklog(pool)).events));
    },
  });
  new Gauge({
    name: 'strata_ingest_queue_jobs',
    help: 'Jobs in the ingest queue by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      await safely('strata_ingest_queue_jobs', async () => {
        const counts = await ingestQueue.getJobCounts(...QUEUE_STATES);
        for (const state of QUEUE_STATES) this.set({ state }, counts[state] ?? 0);
      });
    },
  });
  new Gauge({
    name: 'strata_dead_letter_batches',
    help: 'Ingest batch jobs in BullMQ failed set (invalid payload, or out of attempts): not projected until retried (ops dlq jobs)',
    registers: [registry],
    async collect() {
      await safely('strata_dead_letter_batches', async () => this.set(await ingestQueue.getFailedCount()));
    },
  });
  new Gauge({
    name: 'strata_dead_letter_events',
    help: 'Acknowledged events the database refused, one per event with its reason, until retried or dropped (ops dlq)',
    registers: [registry],
    async collect() {
      await safely('strata_dead_letter_events', async () => this.set((await countDeadLetters(pool)).events));
    },
  });

  return {
    jobRuns: new Counter({
      name: 'strata_pgboss_jobs_total',
      help: 'Scheduled maintenance job runs by job and result (completed, skipped, failed)',
      labelNames: ['job', 'result'],
      registers: [registry],
    }),
    heartbeatErrors: new Counter({
      name: 'strata_heartbeat_errors_total',
      help: 'Replication heartbeat writes that failed',
      registers: [registry],
    }),
    stagingSweeps: new Counter({
      name: 'strata_staging_sweeps_total',
      help: 'Staging sweeper runs by result (completed, skipped: another instance held the lock, failed)',
      labelNames: ['result'],
      registers: [registry],
    }),
    batchesRequeued: new Counter({
      name: 'strata_staging_batches_requeued_total',
      help: 'Staged batches whose queue job was gone, re-enqueued from staging by the sweeper',
      registers: [registry],
    }),
    leftoverRowsDeleted: new Counter({
      name: 'strata_staging_leftover_rows_deleted_total',
      help: 'Staged rows of already-applied batches deleted by the sweeper',
      registers: [registry],
    }),
  };
}
