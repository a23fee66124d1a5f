import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { TenantAuthenticator, createPool, systemClock } from '@strata/core';
import { captureIo, createTestEnvironment } from '@strata/testkit';
import { runCli } from '../src/cli.ts';

const { config, logger } = await createTestEnvironment(t);
const pool = createPool({ connectionString: config.databaseUrl, max: 2, applicationName: 'ops-test' }, logger);
t.teardown(() => pool.end());

t.test('tenant create prints one JSON line whose key authenticates as that tenant', async (t) => {
  const io = captureIo();
  t.equal(await runCli(['tenant', 'create', 'Acme', 'Labs'], config, io), 0);
  const lines = io.out().split('\n').filter((line) => line !== '');
  t.equal(lines.length, 1, 'exactly one line on stdout');
  t.equal(io.out().endsWith('\n'), true);
  const created = JSON.parse(lines[0] as string) as { tenant: string; apiKey: string };
  t.same(Object.keys(created), ['tenant', 'apiKey']);
  const { rows } = await pool.query<{ name: string }>('SELECT name FROM tenants WHERE id = $1', [created.tenant]);
  t.equal(rows[0]?.name, 'Acme Labs');
  const auth = new TenantAuthenticator({ db: pool, clock: systemClock, logger, redis: null as never, prefix: config.redisPrefix, authFailuresPerMinute: 0 });
  t.match(await auth.authenticate(`Bearer ${created.apiKey}`, '127.0.0.1'), { tenantId: created.tenant, scope: 'all', device: null });

  const keyIo = captureIo();
  t.equal(await runCli(['tenant', 'key', created.tenant], config, keyIo), 0);
  const issued = JSON.parse(keyIo.out()) as { keyId: string; apiKey: string; scope: string; device: string | null };
  t.same(Object.keys(issued), ['keyId', 'apiKey', 'scope', 'device']);
  t.not(issued.apiKey, created.apiKey, 'a further, different key');
  t.match(await auth.authenticate(`Bearer ${issued.apiKey}`, '127.0.0.1'), { keyId: issued.keyId, tenantId: created.tenant, scope: 'all' });
});

t.test('tenant key for an unknown tenant fails with exit 1 and no stdout', async (t) => {
  for (const tenant of ['6f1c1a52-1111-4a4a-9b9b-000000000000', 'not-a-uuid']) {
    const io = captureIo();
    t.equal(await runCli(['tenant', 'key', tenant], config, io), 1, tenant);
    t.equal(io.out(), '');
    t.match(io.err(), /no tenant/);
  }
});

t.test('usage errors exit 2 with usage on stderr', async (t) => {
  const unknown = captureIo();
  t.equal(await runCli(['frobnicate'], config, unknown), 2);
  t.equal(unknown.out(), '');
  t.match(unknown.err(), /unknown command: frobnicate[\s\S]*usage:/);
  const noName = captureIo();
  t.equal(await runCli(['tenant', 'create'], config, noName), 2);
  t.match(noName.err(), /usage: pnpm ops tenant/);
});

t.test('migrate is idempotent on a migrated database', async (t) => {
  const io = captureIo();
  t.equal(await runCli(['migrate'], config, io), 0);
  t.equal(io.out(), '', 'nothing applied twice');
  t.match(io.err(), /no pending migrations/);
});

t.test('migrate creates a missing database and applies every migration once', async (t) => {
  const url = new URL(config.databaseUrl);
  const name = `${url.pathname.slice(1)}_fresh`;
  url.pathname = `/${name}`;
  const fresh = { ...config, databaseUrl: url.toString() };
  t.teardown(async () => {
    // node-pg-migrate does not wait for its connection to close; let it go before forcing the drop.
    await sleep(300);
    await pool.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
  const first = captureIo();
  t.equal(await runCli(['migrate'], fresh, first), 0);
  t.match(first.err(), /created database/);
  const applied = first.out().trim().split('\n');
  t.ok(applied.length >= 6, 'all migrations applied');
  t.equal(applied[0], '0001_create_tenants');
  const second = captureIo();
  t.equal(await runCli(['migrate'], fresh, second), 0);
  t.equal(second.out(), '');
});

t.test('partitions lists the daily partitions and DEFAULT', async (t) => {
  const io = captureIo();
  t.equal(await runCli(['partitions', '--json'], config, io), 0);
  const partitions = JSON.parse(io.out()) as { name: string; isDefault: boolean; bytes: number }[];
  t.ok(partitions.some((p) => p.isDefault && p.name === 'events_default'));
  t.ok(partitions.filter((p) => !p.isDefault).length >= 8);
  const table = captureIo();
  t.equal(await runCli(['partitions'], config, table), 0);
  t.match(table.out(), /^PARTITION\s+ROWS \(EST\.\)\s+SIZE\n/);
});
