// Composition root of the ops package: the only file that reads process.env and argv, installs
// signal handlers and listens. `node src/main.ts [serve]` runs the service; anything else is the CLI.
import { loadConfigOrExit, runService } from '@strata/core';
import { runCli } from './cli.ts';
import { closeOpsDeps, createOpsDeps } from './deps.ts';
import { maintenanceJobs } from './jobs/maintenance-jobs.ts';
import { startOps } from './service.ts';

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
  // OPS_SCHEDULE_CRON puts every maintenance job on one schedule (e.g. `* * * * *`), for the
  // two-instance schedule check in docs/time-series.md; production keeps each job's own cron.
  const cron = process.env.OPS_SCHEDULE_CRON;
  const jobs = cron ? maintenanceJobs.map((job) => ({ ...job, cron })) : maintenanceJobs;
  const deps = createOpsDeps(config);
  runService(deps.logger, () => startOps(deps, { jobs }), () => closeOpsDeps(deps));
}
