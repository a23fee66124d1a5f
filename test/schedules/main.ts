// `pnpm test:schedules [--minutes N]`: two ops processes with every maintenance job on a one-minute
// schedule for N minutes (default 10), one of them killed with SIGKILL and restarted now and then.
// Afterwards: each job ran exactly once per minute tick (one pg-boss job per job name and tick,
// completed, never retried) and no daily partition is missing. Exit code 1 otherwise.
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPool } from '@strata/core';
import { createTestEnvironment, freePort, startServiceProcess, waitUntilReady, type ServiceProcess } from '@strata/testkit';
import { countMissingPartitions, jobRunsPerTick } from './schedule-report.ts';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '10' } } });
const minutes = Number(values.minutes);
const teardowns: (() => unknown)[] = [];
const { config, logger } = await createTestEnvironment({ teardown: (fn) => teardowns.push(fn) });
const env = {
  DATABASE_URL: config.databaseUrl,
  REDIS_URL: config.redisUrl,
  REDIS_PREFIX: config.redisPrefix,
  OPS_SCHEDULE_CRON: '* * * * *',
  LOG_LEVEL: 'warn',
};
const start = async (port: number): Promise<ServiceProcess> => {
  const ops = startServiceProcess('ops', { ...env, OPS_PORT: String(port) });
  await waitUntilReady(`http://127.0.0.1:${port}/readyz`, ops);
  return ops;
};
const ports = [await freePort(), await freePort()];
const instances = [await start(ports[0] as number), await start(ports[1] as number)];
const began = Date.now();
let kills = 0;
try {
  // Kill one instance at a random moment every 60–120 s, so kills land before, during and after ticks.
  while (Date.now() - began < minutes * 60_000) {
    await sleep(Math.min(60_000 + Math.random() * 60_000, Math.max(0, began + minutes * 60_000 - Date.now())));
    if (Date.now() - began >= minutes * 60_000) break;
    const victim = kills % 2;
    instances[victim]?.signal('SIGKILL');
    await instances[victim]?.exited;
    kills++;
    instances[victim] = await start(ports[victim] as number);
  }
  await sleep(5000); // let the last tick's jobs finish
} finally {
  await Promise.all(instances.map((ops) => ops.stop(60_000)));
}

const pool = createPool({ connectionString: config.databaseUrl, max: 1, applicationName: 'schedules' }, logger);
const runs = await jobRunsPerTick(pool);
const missing = await countMissingPartitions(pool);
await pool.end();
for (const fn of teardowns.reverse()) await fn();

const problems: string[] = [];
for (const job of runs) {
  process.stdout.write(`${job.name.padEnd(32)} ticks ${job.ticks}  jobs ${job.jobs}  completed ${job.completed}  retried ${job.retried}\n`);
  if (job.jobs !== job.ticks) problems.push(`${job.name}: ${job.jobs} jobs for ${job.ticks} ticks`);
  if (job.retried > 0) problems.push(`${job.name}: ${job.retried} jobs ran more than once`);
  if (job.completed < job.jobs - 1) problems.push(`${job.name}: only ${job.completed} of ${job.jobs} completed`);
  if (job.ticks < minutes - 1) problems.push(`${job.name}: ${job.ticks} ticks in ${minutes} minutes`);
}
if (missing > 0) problems.push(`${missing} daily partitions missing`);
process.stdout.write(`two ops instances, ${minutes} min, ${kills} SIGKILLs; missing partitions ${missing}\n`);
for (const problem of problems) process.stdout.write(`FAIL ${problem}\n`);
process.stdout.write(`schedules: ${problems.length === 0 ? 1 : 0} passed, ${problems.length === 0 ? 0 : 1} failed\n`);
process.exit(problems.length === 0 ? 0 : 1);
