import { Counter, Gauge, type Registry } from 'prom-client';
import type { Clock, Logger, Pool } from '@strata/core';
import type { Queue } from 'bullmq';
import { countDeadLetters } from './queries/count-dead-letters.ts';
import { countStagingBacklog } from './queries/count-staging-backlog.ts';
import { maintenanceJobs } from './jobs/maintenance-jobs.ts';
import { registerAlertingGauges } from './register-alerting-gauges.ts';
import { countIngestJobs, INGEST_JOB_STATES } from './status/count-ingest-jobs.ts';
import { PARTITION_LOOKAHEAD_DAYS, readPartitionCoverage } from './status/read-partition-coverage.ts';

export interface OpsMetrics {
  jobRuns: Counter<'job' | 'result'>;
  heartbeatErrors: Counter;
  stagingSweeps: Counter<'result'>;
  batchesRequeued: Counter;
  leftoverRowsDeleted: Counter;
  churnedTableVacuums: Counter<'result'>;
  churnedTableVacuumSeconds: Gauge;
  historyRangesSummarized: Counter;
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
 * Each fact is read by the same function the health report uses (status/), so the two never disagree.
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
        const coverage = await readPartitionCoverage(pool, clock.now());
        this.set({ kind: 'daily' }, coverage.daily);
        this.set({ kind: 'default' }, coverage.default);
      });
    },
  });
  new Gauge({
    name: 'strata_event_partitions_missing',
    help: `Daily event partitions missing for today and the next ${PARTITION_LOOKAHEAD_DAYS} days (UTC)`,
    registers: [registry],
    async collect() {
      await safely('strata_event_partitions_missing', async () => {
        this.set((await readPartitionCoverage(pool, clock.now())).missing.length);
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
        const counts = await countIngestJobs(ingestQueue);
        for (const state of INGEST_JOB_STATES) this.set({ state }, counts[state]);
      });
    },
  });
  new Gauge({
    name: 'strata_dead_letter_batches',
    help: 'Ingest batch jobs in BullMQ failed set (invalid payload, or out of attempts): not projected until retried (ops dlq jobs)',
    registers: [registry],
    async collect() {
      await safely('strata_dead_letter_batches', async () => this.set((await countIngestJobs(ingestQueue)).failed));
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

  registerAlertingGauges({ registry, pool, safely });

  const metrics: OpsMetrics = {
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
    churnedTableVacuums: new Counter({
      name: 'strata_churned_table_vacuums_total',
      help: "Vacuums of the tables rewritten many times a second (device_state, staging, notes, heads) by result (completed, failed)",
      labelNames: ['result'],
      registers: [registry],
    }),
    churnedTableVacuumSeconds: new Gauge({
      name: 'strata_churned_table_vacuum_seconds',
      help: 'How long the last completed vacuum of the churned tables took',
      registers: [registry],
    }),
    historyRangesSummarized: new Counter({
      name: 'strata_history_ranges_summarized_total',
      help: "Page ranges of history's time index (BRIN on events.ts) summarized by the churned-table rounds",
      registers: [registry],
    }),
  };
  // Every outcome is exported at 0 from the start: Prometheus' increase() cannot see a counter's first
  // step from no series to 1, so an alert on the first failure after a restart would never fire.
  for (const job of maintenanceJobs) {
    for (const result of ['completed', 'skipped', 'failed']) metrics.jobRuns.inc({ job: job.name, result }, 0);
  }
  for (const result of ['completed', 'skipped', 'failed']) metrics.stagingSweeps.inc({ result }, 0);
  for (const result of ['completed', 'failed']) metrics.churnedTableVacuums.inc({ result }, 0);
  return metrics;
}
