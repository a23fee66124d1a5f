import t from 'tap';
import { createTestEnvironment } from '@strata/testkit';
import { createLogger, createPool, withTransaction } from '../src/index.ts';

t.test('a connection killed inside a transaction fails that transaction, not the process', async (t) => {
  const { config } = await createTestEnvironment(t);
  const logger = createLogger('test', 'silent');
  const pool = createPool({ connectionString: config.databaseUrl, max: 2, applicationName: 'with-transaction-test' }, logger);
  t.teardown(() => pool.end());
  const admin = createPool({ connectionString: config.databaseUrl, max: 1, applicationName: 'admin' }, logger);
  t.teardown(() => admin.end());
  let uncaught: unknown;
  const onUncaught = (error: unknown): void => {
    uncaught = error;
  };
  process.on('uncaughtException', onUncaught);
  t.teardown(() => process.off('uncaughtException', onUncaught));

  const failed = await withTransaction(pool, async (client) => {
    const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
    // What a server crash does to a busy connection: it is terminated while a statement runs.
    const sleeping = client.query('SELECT pg_sleep(5)');
    // The statement may fail before the terminate call returns: mark its rejection as handled now
    // (awaited below), so only an error event the code under test leaves unhandled is caught here.
    sleeping.catch(() => {});
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await sleeping;
  }).then(
    () => undefined,
    (error: unknown) => error,
  );
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.ok(failed, 'the transaction failed');
  t.equal(uncaught, undefined, 'no uncaught error event');
  t.equal((await pool.query<{ ok: number }>('SELECT 1 AS ok')).rows[0]?.ok, 1, 'the pool still serves queries on a fresh connection');
});
