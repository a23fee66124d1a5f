import t from 'tap';
import { createTestEnvironment, keepaliveMsLeft, PROMTOOL, promtoolProblems, tcpTimerOf } from '@strata/testkit';
import { closeOpsDeps, createOpsDeps } from '../src/deps.ts';
import { maintenanceJobs } from '../src/jobs/maintenance-jobs.ts';
import { startOps } from '../src/service.ts';

const { config, logger } = await createTestEnvironment(t);
const deps = createOpsDeps(config, { logger });
await deps.pool.query('DROP TABLE IF EXISTS ' + `events_${new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10).replaceAll('-', '')}`);
const service = await startOps(deps);
t.teardown(async () => {
  await service.stop();
  await closeOpsDeps(deps);
});
const { app } = service;

t.test('start schedules every maintenance job in pg-boss and runs premake at once', async (t) => {
  const schedules = await deps.boss.getSchedules();
  t.same(schedules.map((schedule) => schedule.name).sort(), maintenanceJobs.map((job) => job.name).sort());
  const premake = schedules.find((schedule) => schedule.name === 'strata-partition-premake');
  t.equal(premake?.cron, '*/10 * * * *');
  const missing = await app.inject({ url: '/metrics' });
  t.match(missing.body, /strata_event_partitions_missing\{service="ops"\} 0/, 'the dropped partition was made again');
  t.match(missing.body, /strata_pgboss_jobs_total\{job="strata-partition-premake",result="completed",service="ops"\} 1/);
});

t.test("every connection ops holds, pg-boss's included, has TCP keepalive on", async (t) => {
  await deps.pool.query('SELECT 1');
  const { rows } = await deps.pool.query<{ name: string; port: number }>(
    "SELECT application_name AS name, client_port AS port FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'strata-ops%' AND client_port > 0",
  );
  t.ok(rows.some((row) => row.name === 'strata-ops-pgboss'), `pg-boss holds a connection (${rows.map((row) => row.name).join(', ')})`);
  for (const { name, port } of rows) {
    const timer = tcpTimerOf(port);
    t.ok(keepaliveMsLeft(timer) >= 0, `${name} on port ${port}: timer:(${timer})`);
  }
});

t.test('probes answer', async (t) => {
  t.equal((await app.inject({ url: '/livez' })).statusCode, 200);
  const ready = await app.inject({ url: '/readyz' });
  t.equal(ready.statusCode, 200, ready.body);
  const health = await app.inject({ url: '/health' });
  t.equal(health.json().checks.postgres.ok, true);
});

t.test('/metrics has the ops metrics and passes promtool check metrics', async (t) => {
  const response = await app.inject({ url: '/metrics' });
  t.equal(response.statusCode, 200);
  for (const name of ['strata_event_partitions', 'strata_staging_backlog_events', 'strata_ingest_queue_jobs', 'strata_heartbeat_errors_total', 'strata_dead_letter_events']) {
    t.match(response.body, new RegExp(`^${name}\\{`, 'm'), name);
  }
  if (!PROMTOOL) {
    t.ok(true, 'promtool check metrics', { skip: 'promtool is not installed (apt-get install prometheus)' });
    return;
  }
  const problems = promtoolProblems(response.body);
  t.equal(problems, '', `promtool check metrics passes${problems ? `:\n${problems}` : ''}`);
});
