import type { OpsDeps } from './deps.ts';
import type { MaintenanceJob, MaintenanceJobDeps } from './jobs/maintenance-job.ts';
import { maintenanceJobs } from './jobs/maintenance-jobs.ts';

export interface Scheduler {
  start(): Promise<void>;
  /** Stops taking jobs and waits (bounded) for running ones, then closes pg-boss's pool. */
  stop(): Promise<void>;
  /** Runs one job now, outside pg-boss, counting its outcome like a scheduled run. */
  runNow(job: MaintenanceJob): Promise<void>;
}

const STOP_TIMEOUT_MS = 10_000;

/**
 * pg-boss schedules for the maintenance jobs. pg-boss guarantees one job per cron tick across all
 * ops instances; each run also takes an advisory lock, so a manual or start-up run never overlaps one.
 */
export function buildScheduler(deps: OpsDeps, jobs: MaintenanceJob[] = maintenanceJobs): Scheduler {
  const { boss, logger, metrics } = deps;
  const jobDeps: MaintenanceJobDeps = {
    pool: deps.pool,
    clock: deps.clock,
    logger: deps.logger,
    retentionDays: deps.config.retentionDays,
    aggregateRetentionDays: deps.config.aggregateRetentionDays,
    maxFutureSkewMs: deps.config.maxFutureSkewMs,
  };
  const runNow = async (job: MaintenanceJob): Promise<void> => {
    try {
      const outcome = await job.run(jobDeps);
      metrics.jobRuns.inc({ job: job.name, result: outcome.result });
      logger.info({ job: job.name, ...outcome }, 'maintenance job finished');
    } catch (error) {
      metrics.jobRuns.inc({ job: job.name, result: 'failed' });
      logger.error({ err: error, job: job.name }, 'maintenance job failed');
      throw error;
    }
  };

  return {
    runNow,
    async start() {
      await boss.start();
      for (const job of jobs) {
        await boss.createQueue(job.name);
        // Rethrowing lets pg-boss record the failure and retry the job.
        await boss.work(job.name, async (batch) => {
          for (const _ of batch) await runNow(job);
        });
        await boss.schedule(job.name, job.cron, null, { tz: 'UTC' });
      }
      for (const job of jobs.filter((candidate) => candidate.runAtStart)) {
        // A failure here is logged and counted; the schedule tries again on its next tick.
        await runNow(job).catch(() => {});
      }
    },
    async stop() {
      // pg-boss waits for a start in flight and ignores a stop when it never started.
      await boss.stop({ graceful: true, timeout: STOP_TIMEOUT_MS });
    },
  };
}
