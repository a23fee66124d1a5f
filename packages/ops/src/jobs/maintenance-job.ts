import type { Clock, Logger, Pool } from '@strata/core';

/** What a scheduled maintenance job may use. */
export interface MaintenanceJobDeps {
  pool: Pool;
  clock: Clock;
  logger: Logger;
  retentionDays: number;
  /** Days aggregates are kept (AGGREGATE_RETENTION_DAYS, at least retentionDays). */
  aggregateRetentionDays: number;
  /** How far ahead of now the door accepts event times (MAX_FUTURE_SKEW_MS): bounds the partitions made ahead. */
  maxFutureSkewMs: number;
}

/** The outcome of one run: `skipped` when another instance held the job's lock. */
export interface JobOutcome {
  result: 'completed' | 'skipped';
  detail?: Record<string, unknown>;
}

/** A pg-boss scheduled job. Runs must be idempotent: pg-boss delivers at least once and retries. */
export interface MaintenanceJob {
  /** pg-boss queue name, also the advisory lock name. */
  name: string;
  /** Cron expression, evaluated in UTC. */
  cron: string;
  /** Also run once when the scheduler starts, instead of waiting for the first tick. */
  runAtStart: boolean;
  run(deps: MaintenanceJobDeps): Promise<JobOutcome>;
}
