import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import type { OpsDeps } from './deps.ts';
import { buildHeartbeatLoop } from './jobs/build-heartbeat-loop.ts';
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
  /** The listening app (tests send requests with `app.inject`). */
  app: FastifyInstance;
  /** True from the moment stop() is called: readiness then answers 503. */
  isClosing(): boolean;
  /** Stops intake, the sweeper and the heartbeat (after a round in flight), then pg-boss (graceful, bounded). */
  stop(): Promise<void>;
}

/** Starts the heartbeat, the staging sweeper and the pg-boss schedules, then listens on OPS_PORT. */
export async function startOps(deps: OpsDeps, options: StartOpsOptions = {}): Promise<RunningOps> {
  let closing = false;
  const app = buildApp(deps, { isClosing: () => closing });
  const scheduler = buildScheduler(deps, options.jobs);
  const heartbeat = buildHeartbeatLoop({
    db: deps.pool,
    logger: deps.logger,
    intervalMs: HEARTBEAT_INTERVAL_MS,
    onError: () => deps.metrics.heartbeatErrors.inc(),
  });
  const sweeper = buildStagingSweepLoop(deps);
  heartbeat.start();
  sweeper.start();
  await scheduler.start();
  await app.listen({ host: deps.config.host, port: deps.config.opsPort });
  return {
    app,
    isClosing: () => closing,
    async stop() {
      closing = true;
      await app.close();
      await sweeper.stop();
      await heartbeat.stop();
      await scheduler.stop();
    },
  };
}
