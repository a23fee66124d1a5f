import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger, createPool } from '@strata/core';
import { apiClient, createTenant, freePort, recentBaseTime, startSystem, waitForToken, type ServiceName } from '@strata/testkit';

// A real Prometheus (Debian's package) scrapes the four processes with the shipped configuration,
// its targets rewritten to this test's ports, and loads the shipped rules.
const PROMETHEUS = ['/usr/bin/prometheus', '/usr/local/bin/prometheus'].find((path) => existsSync(path));
const DEPLOY = new URL('../../deploy/prometheus/', import.meta.url);
/** The shipped targets are `pnpm start`'s default ports. */
const DEFAULT_PORT: Record<ServiceName, number> = { 'command-api': 3000, 'query-api': 3001, ops: 3002, projector: 3003 };

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

t.test('a real Prometheus scrapes the four processes with the shipped configuration', { skip: PROMETHEUS ? false : 'prometheus is not installed (apt-get install prometheus)' }, async (t) => {
  const system = await startSystem(t, { ingestMaxWaitMs: 2 });
  const dir = await mkdtemp(join(tmpdir(), 'strata-prometheus-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));

  let config = await readFile(new URL('prometheus.yml', DEPLOY), 'utf8');
  for (const [name, port] of Object.entries(DEFAULT_PORT)) {
    const target = `'127.0.0.1:${port}'`;
    t.ok(config.includes(target), `the shipped configuration scrapes ${name} at ${target}`);
    config = config.replace(target, `'${new URL(system.urls[name as ServiceName]).host}'`);
  }
  // One-second scrapes and evaluations, so the test sees rates within seconds.
  config = config.replace(/^(\s*)(scrape_interval|scrape_timeout|evaluation_interval): \S+$/gm, '$1$2: 1s');
  await writeFile(join(dir, 'prometheus.yml'), config);
  await copyFile(new URL('alerts.yml', DEPLOY), join(dir, 'alerts.yml'));

  const port = await freePort();
  const prometheus = spawn(PROMETHEUS as string, [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  prometheus.stderr.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
  t.teardown(async () => {
    if (prometheus.exitCode !== null) return;
    const exited = new Promise((resolve) => prometheus.once('exit', resolve));
    prometheus.kill('SIGTERM');
    // The fallback timer is cancelled once Prometheus exits: a pending timer would keep this test's
    // process alive for its whole 10 s.
    const fallback = new AbortController();
    await Promise.race([
      exited.then(() => fallback.abort()),
      sleep(10_000, undefined, { signal: fallback.signal }).then(() => prometheus.kill('SIGKILL'), () => undefined),
    ]);
  });
  const api = `http://127.0.0.1:${port}`;
  const query = async (promql: string): Promise<Sample[]> => {
    const response = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await response.json()) as { status: string; data: { result: Sample[] }; error?: string };
    if (body.status !== 'success') throw new Error(`${promql}: ${body.error}`);
    return body.data.result;
  };
  const until = async <T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await read().catch(() => undefined);
      if (value !== undefined && done(value)) return value;
      if (Date.now() > deadline || prometheus.exitCode !== null) throw new Error(`${what}: last ${JSON.stringify(value)}\n${log}`);
      await sleep(250);
    }
  };
  await until('prometheus ready', async () => (await fetch(`${api}/-/ready`)).status, (status) => status === 200);

  const up = await until('every target up', () => query('up'), (samples) => samples.length === 4 && samples.every((s) => s.value[1] === '1'));
  t.same(up.map((s) => s.metric.job).sort(), ['strata-command-api', 'strata-ops', 'strata-projector', 'strata-query-api'], 'up == 1 for all four jobs');
  t.comment(`up: ${up.map((s) => `${s.metric.job}=${s.value[1]}`).join(', ')}`);

  // Some ingest, spread over a few seconds so the counters move between scrapes.
  const db = createPool({ connectionString: system.config.databaseUrl, max: 2, applicationName: 'e2e-prometheus' }, createLogger('e2e', 'silent'));
  t.teardown(() => db.end());
  const tenant = await createTenant(db, 'scraped');
  const write = apiClient(system.urls['command-api'], tenant.apiKey);
  const base = recentBaseTime();
  let accepted = 0;
  for (let round = 0; round < 12; round++) {
    const events = Array.from({ length: 50 }, (_, i) => ({ device: `d${i % 5}`, ts: base + round * 1000 + i, values: { n: round * 50 + i } }));
    const posted = await write.post('/v1/events', { events });
    t.equal(posted.status, 202, `batch ${round} accepted`);
    await waitForToken(db, posted.body.token);
    accepted += events.length;
    await sleep(400);
  }

  const ingestRate = await until('ingest rate', () => query('sum(rate(strata_events_accepted_total[10s]))'), (s) => s.length === 1 && Number(s[0]?.value[1]) > 0);
  t.ok(Number(ingestRate[0]?.value[1]) > 0, `ingest rate ${ingestRate[0]?.value[1]} events/s`);
  const acceptedTotal = await until('accepted total', () => query('sum(strata_events_accepted_total)'), (s) => Number(s[0]?.value[1]) >= accepted);
  t.equal(Number(acceptedTotal[0]?.value[1]), accepted, 'Prometheus counted every accepted event');
  const lag = await until(
    'projection lag quantile',
    () => query('histogram_quantile(0.99, sum by (le) (rate(strata_projection_lag_seconds_bucket[30s])))'),
    (s) => s.length === 1 && Number.isFinite(Number(s[0]?.value[1])),
  );
  t.ok(Number(lag[0]?.value[1]) > 0, `p99 projection lag ${lag[0]?.value[1]} s`);
  // Each batch is observed once, when it is committed; the last scrape may predate the last commit.
  const lagCount = await until('lag observations', () => query('sum(strata_projection_lag_seconds_count)'), (s) => Number(s[0]?.value[1]) >= 12);
  t.ok(Number(lagCount[0]?.value[1]) >= 12, `${lagCount[0]?.value[1]} batches observed in the lag histogram`);
  const median = await query('histogram_quantile(0.5, sum by (le) (rate(strata_projection_lag_seconds_bucket[30s])))');

  // The rules match ops' maintenance job label as Prometheus stores it (exported_job, beside the target's job).
  const jobs = await query('strata_pgboss_jobs_total{exported_job="strata-partition-retention",result="failed"}');
  t.same(jobs.map((s) => [s.metric.job, s.value[1]]), [['strata-ops', '0']], 'retention failures are exported_job, at 0');

  // The shipped rules load, evaluate without error, and a healthy system raises none of them.
  const rules = await until('rules evaluated', async () => {
    const body = (await (await fetch(`${api}/api/v1/rules`)).json()) as { data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] } };
    return body.data.groups.flatMap((group) => group.rules);
  }, (all) => all.length > 0 && all.every((rule) => rule.health !== 'unknown'));
  t.equal(rules.length, 20, 'every shipped rule is loaded');
  t.same(rules.filter((rule) => rule.health !== 'ok').map((rule) => `${rule.name}: ${rule.lastError}`), [], 'every rule evaluates');
  // None fires; none is even pending, but the lag bound, which a first batch on a loaded machine may pass.
  const alerts = await query('ALERTS');
  t.same(alerts.filter((s) => s.metric.alertstate === 'firing').map((s) => s.metric.alertname), [], 'no alert fires on a healthy system');
  t.same(alerts.map((s) => s.metric.alertname).filter((name) => name !== 'StrataFreshnessLagHigh'), [], 'no alert is pending');

  t.comment(`sum(rate(strata_events_accepted_total[10s])) = ${ingestRate[0]?.value[1]}`);
  t.comment(`sum(strata_events_accepted_total) = ${acceptedTotal[0]?.value[1]}`);
  t.comment(`histogram_quantile(0.99, ... strata_projection_lag_seconds_bucket[30s]) = ${lag[0]?.value[1]}`);
  t.comment(`sum(strata_projection_lag_seconds_count) = ${lagCount[0]?.value[1]}`);
  t.comment(`histogram_quantile(0.5, ...) = ${median[0]?.value[1]}`);
  t.comment(`ALERTS: ${JSON.stringify(alerts.map((s) => s.metric))}; rules: ${rules.length}, health ${[...new Set(rules.map((rule) => rule.health))].join(',')}`);
});
