import t from 'tap';
import { createPool } from '@strata/core';
import { captureIo, createTestEnvironment } from '@strata/testkit';
import { runCli } from '../src/cli.ts';
import type { HealthReport } from '../src/health/health-report.ts';
import { utcDay } from '../src/partitions/utc-day.ts';
import { touchHeartbeat } from '../src/queries/touch-heartbeat.ts';

const { config, logger } = await createTestEnvironment(t);
const pool = createPool({ connectionString: config.databaseUrl, max: 2, applicationName: 'ops-test' }, logger);
t.teardown(() => pool.end());

t.test('a healthy environment reports ok and exits 0', async (t) => {
  await touchHeartbeat(pool);
  const io = captureIo();
  const code = await runCli(['health'], config, io);
  const report = JSON.parse(io.out()) as HealthReport;
  t.equal(code, 0, io.out());
  t.equal(report.status, 'ok');
  t.same(Object.keys(report.checks).sort(), ['cacheRedis', 'deadLetters', 'heartbeat', 'ingestQueue', 'partitions', 'postgres', 'queueRedis', 'stagingBacklog']);
  t.equal(report.checks.queueRedis?.maxmemoryPolicy, 'noeviction');
  t.type(report.checks.postgres?.latencyMs, 'number');
  t.equal(report.checks.ingestQueue?.failed, 0);
  t.equal(report.checks.deadLetters?.events, 0);
  t.equal(report.checks.stagingBacklog?.events, 0);
  t.ok((report.checks.heartbeat?.ageMs as number) < 5000);
});

t.test('missing partitions make the report unhealthy with exit 1', async (t) => {
  const gone = `events_${utcDay(Date.now(), 3).replaceAll('-', '')}`;
  await pool.query(`DROP TABLE ${gone}`);
  const io = captureIo();
  t.equal(await runCli(['health'], config, io), 1);
  const report = JSON.parse(io.out()) as HealthReport;
  t.equal(report.status, 'unhealthy');
  t.equal(report.checks.partitions?.ok, false);
  t.same(report.checks.partitions?.missing, [gone]);
  t.equal(report.checks.postgres?.ok, true, 'the other checks still pass');
});

t.test('a stale heartbeat is unhealthy', async (t) => {
  await pool.query("UPDATE replication_heartbeat SET beat_at = now() - interval '5 minutes'");
  const io = captureIo();
  t.equal(await runCli(['health'], config, io), 1);
  const report = JSON.parse(io.out()) as HealthReport;
  t.equal(report.checks.heartbeat?.ok, false);
  t.ok((report.checks.heartbeat?.ageMs as number) >= 299_000);
});

t.test('an unreachable Redis is reported, not thrown', async (t) => {
  const io = captureIo();
  const code = await runCli(['health'], { ...config, redisUrl: 'redis://127.0.0.1:1', cacheRedisUrl: 'redis://127.0.0.1:1' }, io);
  t.equal(code, 1);
  const report = JSON.parse(io.out()) as HealthReport;
  t.equal(report.checks.queueRedis?.ok, false);
  t.type(report.checks.queueRedis?.error, 'string');
});

t.test('a dead-lettered event makes the report unhealthy, naming the command to inspect it', async (t) => {
  await touchHeartbeat(pool);
  await pool.query(
    `INSERT INTO dead_letters (event_digest, batch_id, last_batch_id, tenant_id, device, ts, event, sqlstate, reason)
     VALUES ('d1', gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'dev', now(), '{}', '22003', 'value out of range')`,
  );
  t.teardown(() => pool.query('DELETE FROM dead_letters'));
  const io = captureIo();
  t.equal(await runCli(['health'], config, io), 1);
  const report = JSON.parse(io.out()) as HealthReport;
  t.equal(report.checks.deadLetters?.ok, false);
  t.equal(report.checks.deadLetters?.events, 1);
  t.match(report.checks.deadLetters?.error, /pnpm ops dlq list/);
});
