import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPool } from '@strata/core';
import { createTestEnvironment } from '@strata/testkit';
import { buildHeartbeatLoop } from '../src/jobs/build-heartbeat-loop.ts';
import { readHeartbeatAge } from '../src/queries/read-heartbeat-age.ts';

const { config, logger } = await createTestEnvironment(t);
const pool = createPool({ connectionString: config.databaseUrl, max: 2, applicationName: 'ops-test' }, logger);
t.teardown(() => pool.end());

t.test('the loop keeps beat_at fresh every second', async (t) => {
  await pool.query("UPDATE replication_heartbeat SET beat_at = now() - interval '1 hour'");
  let errors = 0;
  const loop = buildHeartbeatLoop({ db: pool, logger, intervalMs: 1000, onError: () => errors++ });
  loop.start();
  t.teardown(() => loop.stop());
  await sleep(1300);
  const first = await readHeartbeatAge(pool);
  t.ok(first !== undefined && first < 1500, `fresh after a second (age ${first} ms)`);
  await sleep(1200);
  const { rows } = await pool.query<{ beat_at: string }>('SELECT beat_at FROM replication_heartbeat');
  t.ok(Date.now() - new Date(rows[0]!.beat_at).getTime() < 1500, 'still fresh a second later');
  t.equal(errors, 0);
  await loop.stop();
});

t.test('a failing write is counted and the loop goes on', async (t) => {
  const broken = createPool({ connectionString: 'postgres://postgres@127.0.0.1:1/none', max: 1, applicationName: 'x', connectionTimeoutMs: 500 }, logger);
  t.teardown(() => broken.end());
  let errors = 0;
  const loop = buildHeartbeatLoop({ db: broken, logger, intervalMs: 100, onError: () => errors++ });
  await loop.runOnce();
  t.equal(errors, 1);
  await loop.runOnce();
  t.equal(errors, 2, 'no crash, counted again');
});
