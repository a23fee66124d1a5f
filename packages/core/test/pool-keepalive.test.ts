import t from 'tap';
import pg from 'pg';
import { createLogger, createPool, KEEPALIVE_INITIAL_DELAY_MS } from '@strata/core';
import { createTestEnvironment, keepaliveMsLeft, tcpTimerOf } from '@strata/testkit';

/*
 * Every pooled connection asks the kernel for TCP keepalive (create-pool.ts): read back from the
 * kernel with `ss`, which shows a keepalive timer on the socket, by the client port the server saw.
 * A connection made without it shows none, so the check can tell the two apart.
 */
const clientPort = async (db: pg.Pool | pg.Client): Promise<number> => (await db.query<{ port: number }>('SELECT inet_client_port() AS port')).rows[0]!.port;

t.test("a pool's connections have TCP keepalive on; a plain client's do not", async (t) => {
  const { config } = await createTestEnvironment(t);
  // Over TCP: the default URL's host is 127.0.0.1, where inet_client_port() names our side.
  const pool = createPool({ connectionString: config.databaseUrl, max: 1, applicationName: 'test' }, createLogger('test', 'silent'));
  t.teardown(() => pool.end());
  const pooled = tcpTimerOf(await clientPort(pool));
  t.match(pooled, /^keepalive,/, `the pool's socket: timer:(${pooled})`);
  const left = keepaliveMsLeft(pooled);
  t.ok(left > 0 && left <= KEEPALIVE_INITIAL_DELAY_MS, `first probe within ${KEEPALIVE_INITIAL_DELAY_MS} ms (${left} ms left)`);

  const plain = new pg.Client({ connectionString: config.databaseUrl });
  await plain.connect();
  t.teardown(() => plain.end());
  t.notMatch(tcpTimerOf(await clientPort(plain)), /^keepalive/, 'a client without the option has no keepalive timer');
});
