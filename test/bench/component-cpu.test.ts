import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { createPool, Redis } from '@strata/core';
import { createTestEnvironment } from '@strata/testkit';
import { ComponentCpuSampler } from '../../bench/component-cpu.ts';

/*
 * The bench's CPU by component (bench/component-cpu.ts) must put each process's CPU under its name.
 * Compared in CPU seconds, not wall time: a started child spins until its own CPU clock has run 0.6 s
 * and reports what it used, and the sampler must find that much (within /proc's 10 ms ticks) under the
 * name it was given; a PostgreSQL backend working under an application
 * name must show under `pg <name>`, and one that only waits must not.
 */
t.test('attributes a service process and a PostgreSQL backend to their components', async (t) => {
  const env = await createTestEnvironment(t);
  const redis = new Redis(env.config.redisUrl);
  const busy = createPool({ connectionString: env.config.databaseUrl, max: 1, applicationName: 'strata-cpu-busy' }, env.logger);
  const idle = createPool({ connectionString: env.config.databaseUrl, max: 1, applicationName: 'strata-cpu-idle' }, env.logger);
  const sampling = createPool({ connectionString: env.config.databaseUrl, max: 1, applicationName: 'bench-sampler' }, env.logger);
  t.teardown(async () => {
    redis.disconnect();
    await Promise.all([busy.end(), idle.end(), sampling.end()]);
  });
  // Both backends exist before the sampler starts: their CPU counts from its first sample.
  await Promise.all([busy.query('SELECT 1'), idle.query('SELECT 1')]);

  // The child starts up first (its start-up is not the phase's), then spins on the word go and waits.
  const spinner = spawn(process.execPath, [
    '-e',
    `process.stdout.write('ready\\n');
     process.stdin.once('data', () => {
       const base = process.cpuUsage(); let used;
       do { used = process.cpuUsage(base); } while (used.user + used.system < 600000);
       const total = process.cpuUsage();
       process.stdout.write(JSON.stringify({ base: base.user + base.system, total: total.user + total.system }));
     });`,
  ]);
  t.teardown(() => void spinner.kill('SIGKILL'));
  let output = '';
  spinner.stdout.on('data', (chunk: Buffer) => (output += chunk));
  while (!output.includes('ready')) await once(spinner.stdout, 'data');
  const started = performance.now();
  const sampler = await ComponentCpuSampler.start(sampling, redis, { spinner: spinner.pid }, 200);
  spinner.stdin.write('go\n');
  await busy.query('SELECT count(*) FROM generate_series(1, 3000000)');
  const pipeline = redis.pipeline();
  for (let i = 0; i < 20_000; i++) pipeline.incr(`${env.config.redisPrefix}:cpu-test`);
  await pipeline.exec();
  // It stays alive until the sampler's last look: a process that ends between two samples loses its last one.
  while (!output.includes('}')) await once(spinner.stdout, 'data');
  await idle.query('SELECT pg_sleep(0.3)');
  const cpu = await sampler.stop();
  const seconds = (performance.now() - started) / 1000;

  // Sampled: all the child's CPU since the sampler's first look, which came before the word go; the
  // test's wall clock spans a little more than the sampler's, hence the small margin above.
  const spinnerSeconds = ((cpu.spinner ?? 0) / 100) * seconds;
  const child = JSON.parse(output.slice(output.indexOf('{'))) as { base: number; total: number };
  const spun = (child.total - child.base) / 1e6;
  t.ok(spinnerSeconds >= spun - 0.03 && spinnerSeconds <= child.total / 1e6 + 0.05, `spinner: sampled ${spinnerSeconds.toFixed(3)} s of CPU; it spun ${spun.toFixed(3)} s of ${(child.total / 1e6).toFixed(3)} s`);
  t.ok((cpu['pg strata-cpu-busy'] ?? 0) > 0, `the busy backend's CPU is found: ${JSON.stringify(cpu)}`);
  t.ok((cpu['pg strata-cpu-busy'] ?? 0) > (cpu['pg strata-cpu-idle'] ?? 0), 'the backend that computed used more than the one that slept');
  t.ok(cpu.machine! >= (cpu.spinner ?? 0), 'the machine is at least as busy as one of its processes');
  t.ok((cpu.redis ?? 0) > 0, `Redis's CPU for 20,000 commands is found: ${cpu.redis}`);
});

/*
 * A backend that connects and ends between two samples (a parallel worker, a pool's closed connection)
 * is never seen by one: its CPU must still be counted, whole, under `pg ended processes`. The sampler
 * here samples only at its start and stop. Other test files' connections ending meanwhile count there
 * too, so only the lower bound is checked: at least what the backend itself had used before it ended.
 */
t.test('counts a PostgreSQL process that lived and ended between two samples', async (t) => {
  const env = await createTestEnvironment(t);
  const redis = new Redis(env.config.redisUrl);
  const sampling = createPool({ connectionString: env.config.databaseUrl, max: 1, applicationName: 'bench-sampler' }, env.logger);
  t.teardown(async () => {
    redis.disconnect();
    await sampling.end();
  });
  const started = performance.now();
  const sampler = await ComponentCpuSampler.start(sampling, redis, {}, 3_600_000);
  const late = new pg.Client({ connectionString: env.config.databaseUrl, application_name: 'strata-cpu-late' });
  await late.connect();
  const pid = (await late.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  await late.query('SELECT count(*) FROM generate_series(1, 3000000)');
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const usedTicks = Number(fields[11]) + Number(fields[12]);
  await late.end();
  // end() resolves when the socket closes; the backend process may take a moment longer to exit.
  while (existsSync(`/proc/${pid}`)) await new Promise((resolve) => setTimeout(resolve, 20));
  const cpu = await sampler.stop();
  const seconds = (performance.now() - started) / 1000;

  t.equal(cpu['pg strata-cpu-late'], undefined, 'no sample saw it');
  const endedTicks = ((cpu['pg ended processes'] ?? 0) / 100) * seconds * 100;
  t.ok(usedTicks > 5, `the backend used ${usedTicks} ticks`);
  t.ok(endedTicks >= usedTicks - 2, `ended processes: ${endedTicks.toFixed(1)} ticks, the backend alone ${usedTicks}`);
});
