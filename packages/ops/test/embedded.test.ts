import t from 'tap';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import {
  findPostgresBinDir,
  hasRedisServer,
  isPostgresUp,
  isRedisUp,
  postgresMallocEnvironment,
  postgresWorkloadSettings,
  startPrivatePostgres,
  startPrivateRedis,
} from '@strata/devstack';
import { freePort } from '@strata/testkit';

const root = await mkdtemp(join(tmpdir(), 'strata-embedded-'));
// The postgres OS user (we may be root) must be able to reach the data dir inside.
await chmod(root, 0o755);
t.teardown(() => rm(root, { recursive: true, force: true }));

t.test('nothing answers on a free port', async (t) => {
  const port = await freePort();
  t.equal(await isRedisUp(`redis://127.0.0.1:${port}`, 500), false);
  t.equal(await isPostgresUp(`postgres://postgres@127.0.0.1:${port}/postgres`, 500), false);
  t.equal(await isPostgresUp('postgres://127.0.0.1:5432/no_such_database_here'), true, 'a server that refuses us is still up');
});

t.test('startPrivateRedis runs a durable, noeviction Redis and stops it', { skip: !hasRedisServer() && 'redis-server not installed' }, async (t) => {
  const port = await freePort();
  const server = await startPrivateRedis({ dataDir: join(root, 'redis'), port });
  t.teardown(() => server.stop());
  const url = `redis://127.0.0.1:${port}`;
  t.equal(await isRedisUp(url), true);
  const redis = new Redis(url);
  t.teardown(() => redis.disconnect());
  t.same(await redis.config('GET', 'maxmemory-policy'), ['maxmemory-policy', 'noeviction']);
  t.same(await redis.config('GET', 'appendonly'), ['appendonly', 'yes']);
  t.same(await redis.config('GET', 'appendfsync'), ['appendfsync', 'everysec']);
  await redis.set('k', 'v');
  redis.disconnect();
  await server.stop();
  t.equal(await isRedisUp(url, 500), false, 'gone after stop');
  await server.stop();
  t.pass('stop twice is harmless');

  const again = await startPrivateRedis({ dataDir: join(root, 'redis'), port });
  t.teardown(() => again.stop());
  const reopened = new Redis(url);
  t.teardown(() => reopened.disconnect());
  t.equal(await reopened.get('k'), 'v', 'data survives a restart (append-only file)');
  reopened.disconnect();
  await again.stop();
});

t.test('startPrivatePostgres initdbs, starts, answers and stops', { skip: !findPostgresBinDir() && 'no PostgreSQL server binaries' }, async (t) => {
  const port = await freePort();
  const dataDir = join(root, 'postgres');
  const server = await startPrivatePostgres({ dataDir, port });
  t.teardown(() => server.stop());
  t.equal(server.port, port);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  t.equal(await isPostgresUp(url), true);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query<{ port: string; listen: string }>(
    "SELECT current_setting('port') AS port, current_setting('listen_addresses') AS listen",
  );
  t.same(rows[0], { port: String(port), listen: '127.0.0.1' });
  // Every workload setting is in force, given on the command line (not a stock default that happens
  // to match), and the values that matter most read back as chosen.
  const expected = postgresWorkloadSettings(totalmem());
  const settings = await client.query<{ name: string; source: string }>('SELECT name, source FROM pg_settings WHERE name = ANY($1::text[]) ORDER BY name', [
    Object.keys(expected),
  ]);
  t.same(
    settings.rows,
    Object.keys(expected)
      .sort()
      .map((name) => ({ name, source: 'command line' })),
  );
  const shown = await client.query<Record<string, string>>(
    `SELECT pg_size_bytes(current_setting('shared_buffers')) AS shared_buffers, current_setting('synchronous_commit') AS synchronous_commit,
            current_setting('wal_compression') AS wal_compression, current_setting('max_wal_size') AS max_wal_size,
            current_setting('checkpoint_timeout') AS checkpoint_timeout, current_setting('jit') AS jit`,
  );
  t.same(shown.rows[0], {
    shared_buffers: String(Number.parseInt(expected.shared_buffers as string, 10) * 2 ** 20),
    synchronous_commit: 'on',
    wal_compression: 'pglz',
    max_wal_size: '4GB',
    checkpoint_timeout: '15min',
    jit: 'off',
  });
  t.ok(Number.parseInt(expected.shared_buffers as string, 10) <= 2048, 'shared_buffers capped for a small machine shared with the services');
  // glibc's allocator settings reach the server (decision 0094): the postmaster's environment, which
  // every backend inherits (a backend's own /proc environ is overwritten by its process title). We
  // (root, or the server's own user) may read it.
  const pid = (await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0];
  const environment = new Map(
    (await readFile(`/proc/${pid}/environ`, 'utf8'))
      .split('\0')
      .filter((entry) => entry.includes('='))
      .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)] as const),
  );
  for (const [name, value] of Object.entries(postgresMallocEnvironment())) t.equal(environment.get(name), value, `${name} in the postmaster's environment`);
  await client.end();
  await server.stop();
  t.equal(await isPostgresUp(url, 1000), false, 'gone after stop');

  const restarted = await startPrivatePostgres({ dataDir, port, settings: { work_mem: '8MB' } });
  t.teardown(() => restarted.stop());
  t.equal(await isPostgresUp(url), true, 'an existing cluster starts again without initdb');
  const again = new pg.Client({ connectionString: url });
  await again.connect();
  const workMem = await again.query<{ work_mem: string }>("SELECT current_setting('work_mem') AS work_mem");
  await again.end();
  t.equal(workMem.rows[0]?.work_mem, '8MB', 'a caller overrides one setting');
  await restarted.stop();
});
