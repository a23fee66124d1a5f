import t from 'tap';
import { randomUUID } from 'node:crypto';
import { createPool, normalizeEvent, type BatchEvent, type Pool } from '@strata/core';
import { createTestEnvironment, type Teardownable } from '@strata/testkit';
import { copyStagedEvents } from '../src/queries/copy-staged-events.ts';
import { insertStagedEvents } from '../src/queries/insert-staged-events.ts';
import { COPY_MIN_EVENTS, stagesByCopy } from '../src/ingest/batch-writer.ts';

/*
 * Large batches are staged by COPY, small ones by INSERT … unnest (decision 0117). Both must stage the
 * same rows for the same events, whatever the events hold: COPY's text format gives tab, newline,
 * carriage return and backslash a meaning (and `\N` and `\.` too), and the door lets all of them
 * through in ids, string values and label values. And both must stage the same time: history's key
 * holds it, so an event staged by one form and re-sent through the other (the job form projects
 * with to_timestamp, as the insert stages) must meet its own row, not become a second one.
 */

const tenantId = randomUUID();

function event(raw: Record<string, unknown>): BatchEvent {
  const result = normalizeEvent(raw);
  if (!('event' in result)) throw new Error(`test event refused: ${JSON.stringify(result.errors)}`);
  return { ...result.event, tenantId };
}

const WORST = ['tab\there', 'new\nline', 'carriage\rreturn', 'back\\slash', '\\N', '\\.', '\\', 'end\\', 'quote"s', 'ünï€ødé 🚀', '{"json":1}', '', ' '];

t.test('COPY stages exactly the rows the insert stages, for every character COPY gives a meaning', async (t) => {
  const env = await createTestEnvironment(t);
  const pool = createPool({ connectionString: env.config.databaseUrl, max: 2, applicationName: 'stage-by-copy-test' }, env.logger);
  t.teardown(() => pool.end());

  const events = WORST.flatMap((text, i) => [
    event({ device: `copy-${i}`, id: `id-${text}`, ts: 1_750_240_800_000 + i, values: { s: text, n: i, b: true, [`k-${i}`]: -1.5e-7 }, labels: { site: text || 'x' } }),
    event({ device: `copy-${i}`, id: `bare-${i}-${text}`, type: 'alarm', ts: 1_750_240_800_000 + i, values: {} }),
  ]);
  while (events.length < COPY_MIN_EVENTS) events.push(event({ device: 'copy-fill', id: `fill-${events.length}`, ts: 1_750_240_900_000 + events.length, values: { v: events.length } }));

  const viaInsert = randomUUID();
  const viaCopy = randomUUID();
  const viaChunks = randomUUID();
  await insertStagedEvents(pool, viaInsert, events);
  await copyStagedEvents(pool, viaCopy, events);
  // A batch too large for one COPY's text goes in several: here a few events each.
  await copyStagedEvents(pool, viaChunks, events, 500);

  const rows = async (batchId: string) =>
    (
      await pool.query(
        `SELECT tenant_id, device, event_key, ts, type, "values"::text AS vals, labels::text AS labels, state::text AS state
           FROM staging_events WHERE batch_id = $1 ORDER BY event_key COLLATE "C"`,
        [batchId],
      )
    ).rows;
  const inserted = await rows(viaInsert);
  t.equal(inserted.length, events.length, 'the insert staged every event');
  t.same(await rows(viaCopy), inserted, 'COPY staged the same rows, byte for byte');
  t.same(await rows(viaChunks), inserted, 'and so did several COPYs of a few events each');
  const keys = new Set(inserted.map((row) => row.event_key));
  for (const text of WORST) t.ok(keys.has(`i:id-${text}`), `an id holding ${JSON.stringify(text)} is staged as it was sent`);
  t.ok(inserted.some((row) => row.labels === null), 'an event without labels has NULL labels, not the text \\N');
});

t.test('COPY stages the time to_timestamp makes of the same milliseconds, over the whole accepted range', async (t) => {
  const env = await createTestEnvironment(t);
  const pool = createPool({ connectionString: env.config.databaseUrl, max: 2, applicationName: 'stage-by-copy-test' }, env.logger);
  t.teardown(() => pool.end());

  const min = Date.UTC(1970, 0, 1);
  const max = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
  // The ends of the range; around PostgreSQL's epoch; the last century where a double holds every
  // microsecond and the first where it does not (2^53 µs after 2000 is in 2255: there the server's
  // to_timestamp stops giving the millisecond itself); and random times all over the range. Times
  // with a fraction of a millisecond never come from the door (it floors), but must match too.
  const edge = Date.UTC(2000, 0, 1) + 2 ** 53 / 1000;
  const times = [min, min + 1, 946_684_800_000, 946_684_799_999, Date.UTC(2026, 11, 3, 12, 0, 0, 1), 1_764_000_000_999, max, max - 1];
  for (let d = -3; d <= 3; d++) times.push(Math.floor(edge) + d);
  times.push(1_764_000_000_000.5, 1_764_000_000_123.4567, max - 0.25);
  for (let i = 0; i < 3000; i++) times.push(Math.floor(min + Math.random() * (max - min)));
  // The door reads small numbers as seconds: each event gets its time after normalizing.
  const events = times.map((ts, i) => ({ ...event({ device: 'clock', id: `t-${i}`, ts: 1_750_240_800_000, values: { i } }), ts }));

  const batchId = randomUUID();
  await copyStagedEvents(pool, batchId, events);
  const { rows } = await pool.query<{ event_key: string; same: boolean; ts: string; want: string }>(
    `SELECT s.event_key, s.ts = to_timestamp(e.ms / 1000.0) AS same, s.ts::text AS ts, to_timestamp(e.ms / 1000.0)::text AS want
       FROM staging_events s JOIN unnest($2::text[], $3::float8[]) AS e(event_key, ms) ON e.event_key = s.event_key
      WHERE s.batch_id = $1`,
    [batchId, events.map((e) => e.key), times],
  );
  t.equal(rows.length, times.length, 'every time staged');
  const differing = rows.filter((row) => !row.same);
  t.same(differing, [], 'each staged time equals to_timestamp(ms / 1000.0), what the insert and the job form store');
});

// One bad row fails the whole COPY, as it fails the whole insert; a batch in several COPYs (here a
// chunk of 1,000 characters, a few events) is staged whole or not at all: the bad row comes last, after
// the first COPYs have stored their rows in the transaction.
for (const { name, chunkChars, size } of [
  { name: 'a COPY the server refuses stages nothing and leaves the pool healthy', chunkChars: undefined, size: 40 },
  { name: 'a batch in several COPYs is staged whole or not at all', chunkChars: 1000, size: 200 },
]) {
  t.test(name, async (t) => {
    const env = await createTestEnvironment(t);
    const pool = createPool({ connectionString: env.config.databaseUrl, max: 1, applicationName: 'stage-by-copy-test' }, env.logger);
    t.teardown(() => pool.end());

    const good = Array.from({ length: size }, (_, i) => event({ device: 'refused', id: `r-${i}`, ts: 1_750_240_800_000 + i, values: { i } }));
    // The door never lets this through (tenant ids come from the key); here it stands for anything the
    // server could still refuse.
    const bad = [...good, { ...(good[0] as BatchEvent), key: 'i:bad', tenantId: 'not-a-uuid' }];
    const batchId = randomUUID();
    await t.rejects(copyStagedEvents(pool, batchId, bad, chunkChars), /invalid input syntax for type uuid/);
    const count = async () => (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM staging_events WHERE batch_id = $1', [batchId])).rows[0]?.n;
    t.equal(await count(), 0, 'none of the refused batch is staged, not even by the COPYs that succeeded');
    // The pool holds one connection, closed after the refused COPY: the next write gets a new one.
    await copyStagedEvents(pool, batchId, good, chunkChars);
    t.equal(await count(), size, 'the same events without the bad one, on the same pool: all staged');
  });
}

/**
 * A COPY of `events` on `pool` that waits behind a lock on staging, so it is surely running when a
 * test breaks its connection (as when PostgreSQL crashes or restarts under a write). Resolves once
 * its backend waits (or after 5 s: then without a pid), with that backend's pid, the COPY's promise,
 * and the lock's release.
 */
async function copyBehindLock(t: Teardownable, admin: Pool, pool: Pool, applicationName: string, events: BatchEvent[]) {
  const locker = await admin.connect();
  t.teardown(() => locker.release());
  await locker.query('BEGIN');
  await locker.query('LOCK TABLE staging_events IN ACCESS EXCLUSIVE MODE');
  const copying = copyStagedEvents(pool, randomUUID(), events);
  copying.catch(() => {});
  let pid: number | undefined;
  for (let waited = 0; pid === undefined && waited < 5000; waited += 20) {
    const { rows } = await admin.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'COPY%' AND wait_event_type = 'Lock'`, [applicationName]);
    pid = rows[0]?.pid;
    if (pid === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { pid, copying, unlock: () => locker.query('ROLLBACK') };
}

t.test('a COPY whose backend is terminated fails its batch, stages nothing, and the pool reconnects', async (t) => {
  const env = await createTestEnvironment(t);
  const pool = createPool({ connectionString: env.config.databaseUrl, max: 1, applicationName: 'stage-by-copy-killed' }, env.logger);
  t.teardown(() => pool.end());
  const admin = createPool({ connectionString: env.config.databaseUrl, max: 2, applicationName: 'stage-by-copy-admin' }, env.logger);
  t.teardown(() => admin.end());

  const events = Array.from({ length: 100 }, (_, i) => event({ device: 'killed', id: `k-${i}`, ts: 1_750_240_800_000 + i, values: { i } }));
  const { pid, copying, unlock } = await copyBehindLock(t, admin, pool, 'stage-by-copy-killed', events);
  t.ok(pid, 'the COPY waits for the lock');
  await admin.query('SELECT pg_terminate_backend($1)', [pid]);
  await t.rejects(copying, /terminat/, 'the COPY fails with the termination');
  await unlock();

  const next = randomUUID();
  await copyStagedEvents(pool, next, events);
  const { rows } = await admin.query<{ batch_id: string; n: number }>('SELECT batch_id, count(*)::int AS n FROM staging_events GROUP BY batch_id');
  t.same(rows, [{ batch_id: next, n: 100 }], 'the killed batch staged nothing; the next one, on a new connection, all');
});

t.test('a COPY whose connection drops fails its batch, and the process lives on', async (t) => {
  const env = await createTestEnvironment(t);
  const pool = createPool({ connectionString: env.config.databaseUrl, max: 1, applicationName: 'stage-by-copy-dropped' }, env.logger);
  t.teardown(() => pool.end());
  const clients: { connection: { stream: { destroy(): void } } }[] = [];
  pool.on('connect', (client) => clients.push(client as unknown as (typeof clients)[number]));
  const admin = createPool({ connectionString: env.config.databaseUrl, max: 2, applicationName: 'stage-by-copy-admin' }, env.logger);
  t.teardown(() => admin.end());

  const events = Array.from({ length: 100 }, (_, i) => event({ device: 'dropped', id: `d-${i}`, ts: 1_750_240_800_000 + i, values: { i } }));
  const { pid, copying, unlock } = await copyBehindLock(t, admin, pool, 'stage-by-copy-dropped', events);
  t.ok(pid, 'the COPY waits for the lock');
  // The socket goes as a network failure or a crashed server takes it: no message first. pg then
  // emits 'error' on the checked-out client before failing the COPY; with no listener there, that
  // event would end this process (the fault suite's PostgreSQL crash ended command-api so).
  clients.at(-1)?.connection.stream.destroy();
  await t.rejects(copying, /terminated|closed|ECONNRESET/, 'the COPY fails');
  await unlock();

  const next = randomUUID();
  await copyStagedEvents(pool, next, events);
  const { rows } = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM staging_events WHERE batch_id = $1', [next]);
  t.equal(rows[0]?.n, 100, 'the next COPY, on a new connection, stages its batch');
});

t.test('which batches go by COPY', async (t) => {
  const batch = (n: number) => Array.from({ length: n }, (_, i) => event({ device: 'd', id: `${i}`, ts: 1_750_240_800_000, values: { i } }));
  t.notOk(stagesByCopy(batch(1)), 'a single event: the insert (one round trip)');
  t.notOk(stagesByCopy(batch(COPY_MIN_EVENTS - 1)), 'just below the threshold: the insert');
  t.ok(stagesByCopy(batch(COPY_MIN_EVENTS)), 'from the threshold: COPY');
  t.ok(stagesByCopy(batch(5000)), 'a large batch: COPY');
});
