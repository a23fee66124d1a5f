import t from 'tap';
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { INGEST_JOB, INGEST_QUEUE, createPool, type BatchEvent, type IngestJobData } from '@strata/core';
import { captureIo, createTenant, createTestEnvironment, freePort, startServiceProcess, waitUntilReady } from '@strata/testkit';
import { runCli } from '../src/cli.ts';

/*
 * `ops dlq` on dead letters (single events with their reason), against a real projector process:
 * retry goes through the projector's own path, so a still-refused event stays and a fixed one goes.
 */
const { config, logger } = await createTestEnvironment(t);
const pool = createPool({ connectionString: config.databaseUrl, max: 3, applicationName: 'ops-dlq-test' }, logger);
t.teardown(() => pool.end());
const queue = new Queue<IngestJobData>(INGEST_QUEUE, { connection: { url: config.redisUrl }, prefix: config.redisPrefix });
t.teardown(() => queue.close());
const { tenant } = await createTenant(pool, 'dlq');

const projectorPort = await freePort();
const projector = startServiceProcess('projector', {
  DATABASE_URL: config.databaseUrl,
  REDIS_URL: config.redisUrl,
  CACHE_REDIS_URL: config.cacheRedisUrl,
  REDIS_PREFIX: config.redisPrefix,
  PROJECTOR_METRICS_PORT: String(projectorPort),
  LOG_LEVEL: 'error',
});
t.teardown(() => projector.stop());
await waitUntilReady(`http://127.0.0.1:${projectorPort}/readyz`, projector);

const now = Date.now();
const event = (key: string, values: BatchEvent['values']): BatchEvent => ({ tenantId: tenant, device: 'dl', key, ts: now, type: 'reading', values });
const lines = (text: string) => text.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line));

t.test('dlq list, retry (still refused: kept with the new reason; projectable: removed) and drop', async (t) => {
  const batchId = randomUUID();
  await queue.add(INGEST_JOB, { batchId, acceptedAt: now, events: [event('i:ok', { v: 1 }), event('i:nul', { s: 'a\u0000' }), event('i:sur', { s: '\udc00' })] }, { jobId: batchId });
  for (let i = 0; i < 400 && !(await pool.query('SELECT 1 FROM applied_batches WHERE batch_id = $1', [batchId])).rowCount; i++) await new Promise((r) => setTimeout(r, 50));

  const listed = captureIo();
  t.equal(await runCli(['dlq', 'list'], config, listed), 0);
  const letters = lines(listed.out());
  t.equal(letters.length, 2, 'one line per refused event');
  t.same(Object.keys(letters[0]).slice(0, 6), ['id', 'tenant', 'device', 'ts', 'reason', 'sqlstate']);
  t.ok(letters.every((l) => l.tenant === tenant && l.device === 'dl' && l.ts === new Date(now).toISOString() && /^22/.test(l.sqlstate) && l.failedAt), 'with tenant, device, time, reason');
  const [nul, sur] = letters;

  // Still refused: kept, same id, its failure counted with the reason of this attempt.
  const retried = captureIo();
  t.equal(await runCli(['dlq', 'retry', nul.id], config, retried), 0);
  t.same(JSON.parse(retried.out()), { retried: 1, projected: 0, refused: 1, pending: 0 });
  const kept = lines((await listOut()).out()).find((l) => l.id === nul.id);
  t.equal(kept?.failures, 2);
  t.ok(kept?.lastFailedAt >= nul.lastFailedAt);

  // A dead letter whose cause is gone (here: its stored event repaired by hand) projects and goes.
  await pool.query('UPDATE dead_letters SET event = $2 WHERE id = $1', [sur.id, JSON.stringify(event('i:sur', { s: 'repaired' }))]);
  const fixed = captureIo();
  t.equal(await runCli(['dlq', 'retry', '--all'], config, fixed), 0);
  t.same(JSON.parse(fixed.out()), { retried: 2, projected: 1, refused: 1, pending: 0 });
  const stored = await pool.query(`SELECT "values" FROM tenant_events WHERE device = 'dl' AND event_key = 'i:sur'`);
  t.same(stored.rows, [{ values: { s: 'repaired' } }], 'projected through the projector');
  t.same(lines((await listOut()).out()).map((l) => l.id), [nul.id]);

  const dropped = captureIo();
  t.equal(await runCli(['dlq', 'drop', nul.id], config, dropped), 0);
  t.same(JSON.parse(dropped.out()), { dropped: 1 });
  t.equal((await listOut()).out(), '', 'nothing left');
  t.equal(await runCli(['dlq', 'drop', nul.id], config, captureIo()), 1, 'an unknown id is an error');
  t.equal(await runCli(['dlq', 'retry', 'abc'], config, captureIo()), 2, 'a malformed id is a usage error');
  t.equal(await runCli(['dlq', 'drop', '--all'], config, captureIo()), 0);
});

async function listOut(): Promise<ReturnType<typeof captureIo>> {
  const io = captureIo();
  await runCli(['dlq', 'list'], config, io);
  return io;
}
