import t from 'tap';
import { createLogger, createPool } from '@strata/core';
import { createTestEnvironment } from '@strata/testkit';
import { withGenericPlans } from '../src/queries/with-generic-plans.ts';

/*
 * Group reads plan their statements generically inside their own transaction only: the setting must
 * never reach the next statement on the same connection (on a whole pool it gave the device list a
 * scan of every tenant's rows, decision 0083), whether the read succeeds or fails, and a failure is
 * the read's own error, unchanged (a 22xxx stays a client error for the breaker's rules).
 */
t.test('generic plans inside the read only; the connection comes back as it was', async (t) => {
  const { config } = await createTestEnvironment(t);
  // One connection, so every query below runs on the one the reads used.
  const pool = createPool({ connectionString: config.databaseUrl, max: 1, applicationName: 'generic-plans-test' }, createLogger('test', 'silent'));
  t.teardown(() => pool.end());
  const mode = async (): Promise<string> => (await pool.query<{ mode: string }>(`SELECT current_setting('plan_cache_mode') AS mode`)).rows[0]!.mode;

  t.equal(await mode(), 'auto', 'the pool plans as PostgreSQL chooses');
  const inside = await withGenericPlans(pool, async (client) => {
    const setting = (await client.query<{ mode: string; readOnly: string }>(`SELECT current_setting('plan_cache_mode') AS mode, current_setting('transaction_read_only') AS "readOnly"`)).rows[0]!;
    return setting;
  });
  t.same(inside, { mode: 'force_generic_plan', readOnly: 'on' }, 'inside: generic plans, read only');
  t.equal(await mode(), 'auto', 'after a read: as before');

  const failure = await withGenericPlans(pool, (client) => client.query(`SELECT 'x'::int`)).catch((error: { code?: string }) => error);
  t.equal((failure as { code?: string }).code, '22P02', "a failed read rejects with the statement's own error");
  t.equal(await mode(), 'auto', 'after a failed read: as before, and the connection works');
  t.equal((await pool.query<{ open: boolean }>(`SELECT now() = statement_timestamp() AS open`)).rows[0]!.open, true, 'no transaction left open');

  const writes = await withGenericPlans(pool, (client) => client.query('CREATE TEMP TABLE nope (x int)')).catch((error: { code?: string }) => error);
  t.equal((writes as { code?: string }).code, '25006', 'a read cannot write');
});
