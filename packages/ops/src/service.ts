import { ServiceStopper } from '@strata/core';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import type { OpsDeps } from './deps.ts';
import { buildHeartbeatLoop } from './jobs/build-heartbeat-loop.ts';
import { buildChurnedTableVacuumLoop } from './jobs/build-churned-table-vacuum-loop.ts';
import { buildStagingSweepLoop } from './jobs/build-staging-sweep-loop.ts';
import type { MaintenanceJob } from './jobs/maintenance-job.ts';
import { buildScheduler } from './scheduler.ts';

/** Replica lag is read from the age of the heartbeat row, so it is known to within one beat. */
const HEARTBEAT_INTERVAL_MS = 1000;

export interface StartOpsOptions {
  /** The maintenance jobs to schedule (all of them when unset); main.ts applies OPS_SCHEDULE_CRON. */
  jobs?: MaintenanceJob[];
}

export interface RunningOps {
  /** The listening app (tests inject into it; with OPS_PORT 0 its address has the port). */
  app: FastifyInstance;
  /**
   * Stops intake (readiness 503, app closed), lets a sweep or beat in flight finish, then lets pg-boss
   * finish its jobs (graceful, bounded); deps stay open.
   */
  stop(): Promise<void>;
  isClosing(): boolean;
}

/** Starts the heartbeat, the staging sweeper and the pg-boss schedules, then listens on config.host:opsPort. */
export async function startOps(deps: OpsDeps, options: StartOpsOptions = {}): Promise<RunningOps> {
  const stopper = new ServiceStopper(async () => {
    await app.close();
    await sweeper.stop();
    await vacuum?.stop();
    await heartbeat.stop();
    await scheduler.stop();
  });
  const app = buildApp(deps, { isClosing: stopper.isClosing });
  const scheduler = buildScheduler(deps, options.jobs);
  const heartbeat = buildHeartbeatLoop({
    db: deps.pool,
    logger: deps.logger,
    intervalMs: HEARTBEAT_INTERVAL_MS,
    onError: () => deps.metrics.heartbeatErrors.inc(),
  });
  const sweeper = buildStagingSweepLoop(deps);
  const vacuum = buildChurnedTableVacuumLoop(deps);
  heartbeat.start();
  sweeper.start();
  vacuum?.start();
  await stopper.guardStart(async () => {
    await scheduler.start();
    await app.listen({ host: deps.config.host, port: deps.config.opsPort });
  });
  return { app, stop: stopper.stop, isClosing: stopper.isClosing };
}
