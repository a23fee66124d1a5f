import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import pg from 'pg';
import { loadConfig } from '@strata/core';
import { startPrivatePostgres } from '@strata/devstack';
import { captureIo, freePort } from '@strata/testkit';
import { runCli } from '../src/cli.ts';

// A private primary (initdb's pg_hba allows loopback replication), so the test never depends on
// how the system cluster's pg_hba is set up.
const root = await mkdtemp(join(tmpdir(), 'strata-ops-replica-'));
await chmod(root, 0o755);
t.teardown(() => rm(root, { recursive: true, force: true }));
const primary = await startPrivatePostgres({ dataDir: join(root, 'primary'), port: await freePort() });
t.teardown(() => primary.stop());
const config = { ...loadConfig({}), databaseUrl: `postgres://postgres@127.0.0.1:${primary.port}/postgres`, dataDir: join(root, 'strata') };

t.test('replica starts a streaming standby, prints its URL, then stops and removes it', async (t) => {
  const port = await freePort();
  const io = captureIo();
  t.equal(await runCli(['replica', '--name', 'r9', '--port', String(port)], config, io), 0, io.err());
  t.equal(io.out(), `postgres://postgres@127.0.0.1:${port}/postgres\n`, 'one line: the URL');
  const client = new pg.Client({ connectionString: io.out().trim() });
  await client.connect();
  const { rows } = await client.query<{ standby: boolean }>('SELECT pg_is_in_recovery() AS standby');
  await client.end();
  t.equal(rows[0]?.standby, true, 'a hot standby');

  const stop = captureIo();
  t.equal(await runCli(['replica', '--name', 'r9', '--stop'], config, stop), 0);
  t.equal(stop.out(), 'replica r9 stopped\n');
  const remove = captureIo();
  t.equal(await runCli(['replica', '--name', 'r9', '--remove'], config, remove), 0);
  const admin = new pg.Client({ connectionString: config.databaseUrl });
  await admin.connect();
  const slots = await admin.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name = 'strata_replica_r9'`);
  await admin.end();
  t.equal(slots.rowCount, 0, 'its replication slot is gone');
});

t.test('bad arguments are a usage error', async (t) => {
  const io = captureIo();
  t.equal(await runCli(['replica', '--name', 'Bad Name'], config, io), 2);
  t.match(io.err(), /usage: pnpm ops replica/);
});
