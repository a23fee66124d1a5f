import t from 'tap';
import { loadConfig } from '@strata/core';
import { captureIo, createTestEnvironment, freePort, startServiceProcess, waitUntilReady } from '@strata/testkit';
import { runCli } from '../src/cli.ts';
import type { HealthReport } from '../src/health/health-report.ts';

// ops health asks the running query API for its replica view; here a real query-api process
// routes over a configured replica that does not answer, so its breaker and probes report it.
t.test('with replicas configured, ops health reports the query API routing view', async (t) => {
  const { config } = await createTestEnvironment(t);
  const deadReplica = `r9=postgres://postgres@127.0.0.1:${await freePort()}/strata`;
  const queryApiPort = await freePort();
  const withReplica = { ...config, ...pick(loadConfig({ DATABASE_REPLICA_URLS: deadReplica })), queryApiPort };

  const io = captureIo();
  t.equal(await runCli(['health'], withReplica, io), 1, 'query-api not running: unhealthy');
  const unreachable = JSON.parse(io.out()) as HealthReport;
  t.equal(unreachable.checks.readRouting?.ok, false);

  const queryApi = startServiceProcess('query-api', {
    DATABASE_URL: config.databaseUrl,
    REDIS_URL: config.redisUrl,
    REDIS_PREFIX: config.redisPrefix,
    QUERY_API_PORT: String(queryApiPort),
    DATABASE_REPLICA_URLS: deadReplica,
    LOG_LEVEL: 'silent',
  });
  t.teardown(() => queryApi.stop());
  await waitUntilReady(`http://127.0.0.1:${queryApiPort}/readyz`, queryApi);

  const again = captureIo();
  t.equal(await runCli(['health'], withReplica, again), 1, 'a replica that cannot serve reads is unhealthy');
  const report = JSON.parse(again.out()) as HealthReport;
  const routing = report.checks.readRouting as { ok: boolean; replicas: { name: string; healthy: boolean }[]; error: string };
  t.equal(routing.ok, false);
  t.same(routing.replicas.map((r) => [r.name, r.healthy]), [['r9', false]]);
  t.match(routing.error, /r9/);
});

t.test('without replicas there is no routing check', async (t) => {
  const { config } = await createTestEnvironment(t);
  const io = captureIo();
  await runCli(['health'], config, io);
  t.notOk('readRouting' in (JSON.parse(io.out()) as HealthReport).checks);
});

function pick(config: ReturnType<typeof loadConfig>) {
  return { replicas: config.replicas, replicaUrls: config.replicaUrls };
}
