import t from 'tap';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { INGEST_JOB, INGEST_QUEUE, createPool, type IngestJobData, type Pool } from '@strata/core';
import { createTenant, createTestEnvironment } from '@strata/testkit';
import { closeProjectorDeps, createProjectorDeps } from '../src/deps.ts';
import { startProjector } from '../src/service.ts';

/*
 * What main.ts runs: startProjector starts the worker, the aggregate refresher and the probe server;
 * stop() ends all three and leaves the deps to their owner.
 */
const MINUTE = 60_000;

const { config, logger } = await createTestEnvironment(t, { aggregateRefreshIntervalMs: 100 });
const deps = createProjectorDeps(config, { logger });
t.teardown(() => closeProjectorDeps(deps));
const db = createPool({ connectionString: config.databaseUrl, max: 2, applicationName: 'projector-service-test' }, logger);
t.teardown(() => db.end());
const queue = new Queue<IngestJobData>(INGEST_QUEUE, { connection: { url: config.redisUrl }, prefix: config.redisPrefix });
t.teardown(() => queue.close());
const { tenant } = await createTenant(db, 'projector service');

async function enqueue(device: string, ts: number): Promise<string> {
  const batchId = randomUUID();
  const events = [{ tenantId: tenant, device, key: `${device}:${ts}`, ts, type: 'reading', values: { v: 1 } }];
  await queue.add(INGEST_JOB, { batchId, acceptedAt: Date.now(), events }, { jobId: batchId });
  return batchId;
}

async function count(pool: Pool, sql: string, params: unknown[]): Promise<number> {
  return (await pool.query<{ n: number }>(sql, params)).rows[0]?.n ?? 0;
}

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  for (const until = Date.now() + ms; Date.now() < until; await sleep(25)) if (await check()) return true;
  return check();
}

t.test('started, it projects, refreshes aggregates and answers probes; stopped, it does none of them', async (t) => {
  const service = await startProjector(deps);
  let stopped = false;
  t.teardown(() => (stopped ? undefined : service.stop()));
  const { port } = service.probes.server.address() as AddressInfo;
  t.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200, 'ready on PROJECTOR_METRICS_PORT');
  t.equal(service.isClosing(), false);

  // An ended minute: the refresher (not this test) turns its noted minute into a rollup.
  const ended = Math.floor(Date.now() / MINUTE) * MINUTE - 2 * MINUTE + 5_000;
  const first = await enqueue('running', ended);
  const applied = () => waitFor(async () => (await count(db, 'SELECT count(*)::int AS n FROM applied_batches WHERE batch_id = $1', [first])) === 1, 10_000);
  t.ok(await applied(), 'the worker projected the batch');
  const rolled = () => waitFor(async () => (await count(db, `SELECT count(*)::int AS n FROM rollups_1m WHERE tenant_id = $1 AND device = 'running'`, [tenant])) === 1, 10_000);
  t.ok(await rolled(), 'the refresher wrote the minute rollup');

  const stopping = service.stop();
  t.equal(service.isClosing(), true, 'closing from the moment stop() is called');
  await stopping;
  stopped = true;
  await t.rejects(fetch(`http://127.0.0.1:${port}/readyz`), 'the probe server is closed');
  const second = await enqueue('stopped', ended);
  await sleep(1000);
  t.equal(await count(db, 'SELECT count(*)::int AS n FROM applied_batches WHERE batch_id = $1', [second]), 0, 'no job is taken after stop()');
  t.equal(await deps.pool.query('SELECT 1 AS one').then((result) => result.rows[0].one), 1, 'the deps are still open for their owner to close');
});
