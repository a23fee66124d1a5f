// Composition root of the ops package: the only file that reads process.env and argv, installs
// signal handlers and listens. `node src/main.ts [serve]` runs the service; anything else is the CLI.
import { installShutdown, loadConfigOrExit } from '@strata/core';
import { buildApp } from './app.ts';
import { runCli } from './cli.ts';
import { closeDeps, createDeps } from './deps.ts';
import { createHeartbeatLoop } from './jobs/heartbeat-loop.ts';
import { buildStagingSweepLoop } from './jobs/build-staging-sweep-loop.ts';
import { maintenanceJobs } from './jobs/maintenance-jobs.ts';
import { buildScheduler } from './scheduler.ts';

const HEARTBEAT_INTERVAL_MS = 1000;

const config = loadConfigOrExit(process.env);
const argv = process.argv.slice(2);

if (argv.length === 0 || argv[0] === 'serve') {
  await serve();
} else {
  const controller = new AbortController();
  if (argv[0] === 'stack') {
    // The stack supervises children: a signal starts its orderly shutdown instead of killing it.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => controller.abort());
  }
  const code = await runCli(argv, config, {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    signal: controller.signal,
  });
  // Exit explicitly: a client of a server that is down may keep reconnecting and hold the loop open.
  process.stdout.write('', () => process.exit(code));
}

async function serve(): Promise<void> {
  const deps = createDeps(config);
  let closing = false;
  const app = buildApp(deps, { isClosing: () => closing });
  // OPS_SCHEDULE_CRON puts every maintenance job on one schedule (e.g. `* * * * *`), for the
  // two-instance schedule check in docs/time-series.md; production keeps each job's own cron.
  const cron = process.env.OPS_SCHEDULE_CRON;
  const scheduler = buildScheduler(deps, cron ? maintenanceJobs.map((job) => ({ ...job, cron })) : maintenanceJobs);
  const heartbeat = createHeartbeatLoop({
    db: deps.pool,
    logger: deps.logger,
    intervalMs: HEARTBEAT_INTERVAL_MS,
    onError: () => deps.metrics.heartbeatErrors.inc(),
  });
  const sweeper = buildStagingSweepLoop(deps);
  // Stop intake (probes 503), let a sweep or beat in flight finish, let pg-boss finish its jobs
  // (graceful, bounded), then close clients; the whole sequence runs under installShutdown's timeout.
  installShutdown(deps.logger, async () => {
    closing = true;
    await app.close();
    await sweeper.stop();
    await heartbeat.stop();
    await scheduler.stop();
    await closeDeps(deps);
  });
  heartbeat.start();
  sweeper.start();
  await scheduler.start();
  await app.listen({ host: config.host, port: config.opsPort });
}
