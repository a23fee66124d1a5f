import t from 'tap';
import { Redis } from 'ioredis';
import { CACHED_STATE_FIELDS, redisKeys } from '@strata/core';
import { startTestProjector } from './start-test-projector.ts';

t.test('projection of batches', async (t) => {
  const ctx = await startTestProjector(t);

  t.test('a batch re-sent 3 times is stored once and counted once in rollups', async (t) => {
    const events = [
      { device: 'dup', id: 'e1', ts: '2026-11-20T12:00:05Z', values: { temp: 20 } },
      { device: 'dup', id: 'e2', ts: '2026-11-20T12:00:35Z', values: { temp: 22 } },
      { device: 'dup', ts: '2026-11-20T12:01:10Z', values: { temp: 30 } }, // no id: deduplicated by content
    ];
    for (let i = 0; i < 3; i++) await ctx.project(events);
    const history = await ctx.db.query(`SELECT count(*)::int AS n FROM tenant_events WHERE device = 'dup'`);
    t.equal(history.rows[0].n, 3);
    await ctx.refresh();
    const rollups = await ctx.db.query(
      `SELECT bucket, count::int, sum::float8 AS sum, min, max, last FROM rollups_1m WHERE device = 'dup' AND value_key = 'temp' ORDER BY bucket`,
    );
    t.same(rollups.rows, [
      { bucket: '2026-11-20 12:00:00+00', count: 2, sum: 42, min: 20, max: 22, last: 22 },
      { bucket: '2026-11-20 12:01:00+00', count: 1, sum: 30, min: 30, max: 30, last: 30 },
    ]);
    const applied = await ctx.db.query(`SELECT inserted FROM applied_batches ORDER BY applied_at`);
    t.same(applied.rows.map((r) => r.inserted), [3, 0, 0], 'the re-sent batches inserted nothing');
  });

  t.test('an older event never overwrites a newer value, but adds what only it carries', async (t) => {
    await ctx.project([{ device: 'ooo', ts: '2026-11-20T12:00:10Z', values: { temp: 25, status: 'new' } }]);
    await ctx.project([{ device: 'ooo', ts: '2026-11-20T12:00:00Z', values: { temp: 99, status: 'old', battery: 80 } }]);
    const state = await ctx.db.query(`SELECT ts, "values" FROM device_state WHERE device = 'ooo'`);
    t.same(state.rows[0], { ts: '2026-11-20 12:00:10+00', values: { temp: 25, status: 'new', battery: 80 } });
  });

  t.test('within one batch, the newest event per value wins whatever the order', async (t) => {
    await ctx.project([
      { device: 'mix', ts: '2026-11-20T12:00:03Z', values: { a: 3 } },
      { device: 'mix', ts: '2026-11-20T12:00:01Z', values: { a: 1, b: 1 } },
      { device: 'mix', ts: '2026-11-20T12:00:02Z', values: { b: 2 } },
    ]);
    const state = await ctx.db.query(`SELECT "values" FROM device_state WHERE device = 'mix'`);
    t.same(state.rows[0].values, { a: 3, b: 2 });
  });

  t.test('value keys and values that JSON must escape arrive in the state as sent (the drain writes it as text)', async (t) => {
    // Decision 0086: the drain builds each device's state as JSON text and parses it once. A key or a
    // value written without its escapes would change the state or fail the whole drain.
    // From JSON text: a `__proto__` key in an object literal would set the prototype, not a key.
    const parsed = JSON.parse(`{"q\\"uote":"he said \\"hi\\"\\n","back\\\\slash":"\\\\","ü-ß-漢字-🙂":1e-7,"__proto__":12345678901234567890,"{\\"x\\":1}":"{\\"v\\":0,\\"t\\":0}",",":":","a.b":true,"nothing":null}`) as Record<string, unknown>;
    t.equal(Object.keys(parsed).length, 8, 'the event carries every key');
    // Two devices: one with two events of the drain (the sorted, grouped path) and one with one (built
    // from its event alone).
    await ctx.watchLive();
    await ctx.project([
      { device: 'escapes', ts: '2026-11-20T12:00:00Z', values: parsed },
      { device: 'escapes', ts: '2026-11-20T12:00:01Z', values: { ',': ';' } },
      { device: 'escapes-once', ts: '2026-11-20T12:00:00Z', values: parsed },
    ]);
    const once = await ctx.db.query<{ values: Record<string, unknown>; state: Record<string, { v: unknown; t: number }> }>(
      `SELECT "values"::text::json AS "values", state::text::json AS state FROM device_state WHERE device = 'escapes-once'`,
    );
    t.same(JSON.parse(JSON.stringify(once.rows[0]?.values)), JSON.parse(JSON.stringify(parsed)), 'one event: its values as sent');
    t.same(
      JSON.parse(JSON.stringify(once.rows[0]?.state)),
      Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, { v, t: Date.parse('2026-11-20T12:00:00Z') }])),
      'one event: each value with its time',
    );
    // The cache entry and the live delta carry them too (a `__proto__` key is a key like any other).
    const cached = await ctx.deps.cache.hgetall(redisKeys.deviceState(ctx.config.redisPrefix, ctx.tenant, 'escapes-once'));
    const body = JSON.parse(cached.b as string) as { values: Record<string, unknown> };
    t.ok(Object.hasOwn(body.values, '__proto__'), 'cache: __proto__ is an own key');
    t.same(JSON.parse(JSON.stringify(body.values)), JSON.parse(JSON.stringify(parsed)), 'cache: the values as sent');
    const entries = await ctx.deps.cache.xrange(redisKeys.liveStream(ctx.config.redisPrefix, ctx.tenant), '-', '+');
    const deltas = entries.map(([, fields]) => JSON.parse(fields[1] as string) as { device: string; values: Record<string, unknown>; times: Record<string, string> });
    const delta = deltas.find((d) => d.device === 'escapes-once');
    t.ok(delta && Object.hasOwn(delta.values, '__proto__') && Object.hasOwn(delta.times, '__proto__'), 'live: __proto__ is an own key');
    t.same(JSON.parse(JSON.stringify(delta?.values)), JSON.parse(JSON.stringify(parsed)), 'live: every value changed');
    t.same(Object.keys(delta?.times ?? {}).sort(), Object.keys(parsed).sort(), 'live: each with its time');
    const state = await ctx.db.query<{ values: Record<string, unknown>; state: Record<string, { v: unknown; t: number }> }>(
      `SELECT "values"::text::json AS "values", state::text::json AS state FROM device_state WHERE device = 'escapes'`,
    );
    const row = state.rows[0];
    t.ok(row, 'the device has a state');
    const expected = JSON.parse(JSON.stringify({ ...parsed, ',': ';' })) as Record<string, unknown>;
    t.same(JSON.parse(JSON.stringify(row?.values)), expected, 'values: every key and value as sent, the newer one where two events carry it');
    const times = Object.fromEntries(Object.entries(row?.state ?? {}).map(([k, e]) => [k, e.t]));
    t.equal(times[','], Date.parse('2026-11-20T12:00:01Z'), 'a value keeps the time of the event that set it');
    t.equal(times['q"uote'], Date.parse('2026-11-20T12:00:00Z'));
    t.same(Object.keys(row?.state ?? {}).sort(), Object.keys(expected).sort(), 'state: the same keys');
  });

  t.test('latest-state entries staged by command-api equal those the drain builds (decision 0107)', async (t) => {
    // The same events drained twice: staged with command-api's statement (the entries come from its
    // text) and as jobs alone (the drain builds them in SQL). Values JSON must escape or writes in
    // more than one way, a device with one event and one with several, the first and last instants an
    // event may carry (the drain's time is the stored timestamp rounded to a millisecond; command-api's
    // is the event's whole millisecond, and parseEventTime keeps only whole ones).
    const parsed = JSON.parse(`{"q\\"uote":"he said \\"hi\\"\\n","ü-ß-漢字-🙂":1e-7,"__proto__":12345678901234567890,"big":1e21,"neg":-0.5,"int":42,"f":0.1,"b":false,"nothing":null,"{\\"v\\":1}":"{\\"t\\":2}"}`) as Record<string, unknown>;
    const events = [
      { device: 'entries-one', ts: '2026-11-20T12:00:00.123Z', values: parsed },
      { device: 'entries-two', ts: '2026-11-20T12:00:00Z', values: parsed },
      { device: 'entries-two', ts: '2026-11-20T12:00:01Z', values: { f: 0.25, extra: 'x' } },
      { device: 'entries-first', ts: '1970-01-01T00:00:00.000Z', values: { f: 1.5 } },
      { device: 'entries-last', ts: '9999-12-31T23:59:59.999Z', values: { f: 2.5 } },
      { device: 'entries-empty', ts: '2026-11-20T12:00:02Z', values: {} },
    ];
    const other = (await ctx.db.query<{ id: string }>(`INSERT INTO tenants (name) VALUES ('entries') RETURNING id`)).rows[0]?.id as string;
    // Staged, then seen in staging before the job is queued: every row carries its entries.
    const batchId = await ctx.project(events, ctx.tenant, { staged: true, beforeJob: async (id) => {
      const staged = await ctx.db.query<{ device: string; has: boolean }>(`SELECT device, state IS NOT NULL AS has FROM staging_events WHERE batch_id = $1 ORDER BY device, ts`, [id]);
      t.same(staged.rows.map((r) => [r.device, r.has]), [['entries-empty', true], ['entries-first', true], ['entries-last', true], ['entries-one', true], ['entries-two', true], ['entries-two', true]], 'staged with their entries');
    } });
    t.equal((await ctx.db.query(`SELECT 1 FROM staging_events WHERE batch_id = $1`, [batchId])).rowCount, 0, 'the drain read them from staging');
    await ctx.project(events, other);
    const differing = await ctx.db.query(
      `SELECT coalesce(a.device, b.device) AS device, a.state::text AS staged, b.state::text AS built
         FROM (SELECT * FROM device_state WHERE tenant_id = $1 AND device LIKE 'entries-%') a
         FULL JOIN (SELECT * FROM device_state WHERE tenant_id = $2 AND device LIKE 'entries-%') b ON b.device = a.device
        WHERE a.state IS DISTINCT FROM b.state OR a."values" IS DISTINCT FROM b."values" OR a.ts IS DISTINCT FROM b.ts`,
      [ctx.tenant, other],
    );
    t.same(differing.rows, [], 'every device: the same state, values and time either way');
    const devices = await ctx.db.query<{ device: string }>(`SELECT device FROM device_state WHERE tenant_id = $1 AND device LIKE 'entries-%' ORDER BY device`, [ctx.tenant]);
    t.same(devices.rows.map((r) => r.device), ['entries-empty', 'entries-first', 'entries-last', 'entries-one', 'entries-two'], 'every device has its state');
    const one = await ctx.db.query<{ state: Record<string, { v: unknown; t: number }> }>(`SELECT state::text::json AS state FROM device_state WHERE tenant_id = $1 AND device = 'entries-one'`, [ctx.tenant]);
    t.same(JSON.parse(JSON.stringify(one.rows[0]?.state)), JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, { v: k === 'big' ? 1e21 : v, t: Date.parse('2026-11-20T12:00:00.123Z') }])))), 'each value with its time, as sent');
  });

  t.test("one staged batch of two tenants: a tenant's worst values land beside its neighbour's events (decision 0107)", async (t) => {
    // Group commit mixes tenants in one batch, and one staging insert carries them all: a value whose
    // entries text PostgreSQL refused would refuse the neighbour's events with it. The worst values
    // the door lets through: the longest key, the largest magnitudes, control characters, a surrogate pair.
    const neighbour = (await ctx.db.query<{ id: string }>(`INSERT INTO tenants (name) VALUES ('neighbour') RETURNING id`)).rows[0]?.id as string;
    const worst = JSON.parse(`{"\\u0001\\u001f":"\\ud83d\\ude42\\u2028","${'k'.repeat(128)}":"${'x'.repeat(4000)}","n":-1e300,"tiny":5e-324}`) as Record<string, unknown>;
    const events = [
      { device: 'hostile', ts: '2026-11-20T12:00:00Z', values: worst },
      { device: 'calm', ts: '2026-11-20T12:00:00Z', values: { temp: 21.5 } },
      { device: 'hostile', ts: '9999-12-31T23:59:59.999Z', values: { n: 1e300 } },
      { device: 'calm', ts: '2026-11-20T12:00:01Z', values: { temp: 22 } },
    ];
    const batchId = await ctx.project(events, ctx.tenant, {
      staged: true,
      tenants: [ctx.tenant, neighbour, ctx.tenant, neighbour],
      beforeJob: async (id) => {
        const staged = await ctx.db.query<{ n: number }>(`SELECT count(state)::int AS n FROM staging_events WHERE batch_id = $1`, [id]);
        t.equal(staged.rows[0]?.n, 4, 'one insert staged all four, each with its entries');
      },
    });
    t.equal((await ctx.db.query(`SELECT 1 FROM staging_events WHERE batch_id = $1`, [batchId])).rowCount, 0, 'drained from staging');
    const calm = await ctx.db.query<{ values: Record<string, unknown>; state: Record<string, { v: unknown; t: number }> }>(
      `SELECT "values"::text::json AS "values", state::text::json AS state FROM device_state WHERE tenant_id = $1 AND device = 'calm'`,
      [neighbour],
    );
    t.same(calm.rows[0]?.values, { temp: 22 }, "the neighbour's device: its newest value");
    t.same(calm.rows[0]?.state, { temp: { v: 22, t: Date.parse('2026-11-20T12:00:01Z') } }, 'with its time');
    const hostile = await ctx.db.query<{ state: Record<string, { v: unknown; t: number }> }>(`SELECT state::text::json AS state FROM device_state WHERE tenant_id = $1 AND device = 'hostile'`, [ctx.tenant]);
    const state = hostile.rows[0]?.state ?? {};
    t.same(Object.keys(state).sort(), Object.keys(worst).sort(), 'every worst key kept');
    t.same(state.n, { v: 1e300, t: Date.parse('9999-12-31T23:59:59.999Z') }, 'the newest event wins its key, at the last instant an event may carry');
    t.same(state['\u0001\u001f'], { v: '🙂\u2028', t: Date.parse('2026-11-20T12:00:00Z') }, 'control characters and a surrogate pair as sent');
  });

  t.test('the same device name in two tenants stays apart', async (t) => {
    const other = await ctx.db.query(`INSERT INTO tenants (name) VALUES ('other') RETURNING id`);
    await ctx.project([{ device: 'shared', ts: '2026-11-20T12:00:00Z', values: { owner: 'a' } }]);
    await ctx.project([{ device: 'shared', ts: '2026-11-20T12:00:00Z', values: { owner: 'b' } }], other.rows[0].id);
    const states = await ctx.db.query(`SELECT tenant_id, "values" FROM device_state WHERE device = 'shared' ORDER BY "values"->>'owner'`);
    t.same(states.rows.map((r) => [r.tenant_id, r.values.owner]), [[ctx.tenant, 'a'], [other.rows[0].id, 'b']]);
  });

  t.test('staged rows of a projected batch are removed and the cache gets the newest version', async (t) => {
    const redis = new Redis(ctx.config.redisUrl);
    t.teardown(() => redis.quit());
    await ctx.db.query(
      `INSERT INTO staging_events (batch_id, tenant_id, device, event_key, ts, type, "values")
       VALUES ('00000000-0000-4000-8000-000000000001', $1, 'cached', 'i:x', now(), 'reading', '{}')`,
      [ctx.tenant],
    );
    await ctx.project([{ device: 'cached', ts: '2026-11-20T12:00:00Z', values: { v: 1 } }]);
    await ctx.project([{ device: 'cached', ts: '2026-11-20T12:00:01Z', values: { v: 2 } }]);
    const key = redisKeys.deviceState(ctx.config.redisPrefix, ctx.tenant, 'cached');
    const cached = await redis.hgetall(key);
    t.equal(cached.v, '2');
    t.same(JSON.parse(cached.b as string).values, { v: 2 });
    t.ok((await redis.ttl(key)) > 0, 'cache entries expire');
  });

  t.test('labels are stored with their events, a labelled re-send once; latest state and notes stay as without labels', async (t) => {
    const events = [
      { device: 'tag', id: 'l1', ts: '2026-11-20T13:00:05Z', values: { temp: 20 }, labels: JSON.parse('{"room": "r1", "__proto__": "odd"}') },
      { device: 'tag', id: 'l2', ts: '2026-11-20T13:00:35Z', values: { temp: 22 } },
      { device: 'tag', ts: '2026-11-20T13:01:10Z', values: { temp: 30 }, labels: { room: 'r2' } }, // no id: the digest covers its labels
      { device: 'tag', ts: '2026-11-20T13:01:10Z', values: { temp: 30 }, labels: { room: 'r3' } }, // same but for a label: another event
    ];
    for (let i = 0; i < 3; i++) await ctx.project(events);
    const history = await ctx.db.query(`SELECT ts, labels FROM tenant_events WHERE device = 'tag' ORDER BY ts, labels->>'room'`);
    t.same(history.rows.map((row) => row.labels), [JSON.parse('{"room": "r1", "__proto__": "odd"}'), null, { room: 'r2' }, { room: 'r3' }],
      'each event once, labels as sent (a label named __proto__ is a plain key), NULL without');
    const notes = await ctx.db.query(`SELECT bucket, labelled FROM aggregate_dirty WHERE bucket >= '2026-11-20T13:00:00Z' AND bucket < '2026-11-20T13:02:00Z' ORDER BY bucket`);
    t.same(notes.rows, [{ bucket: '2026-11-20 13:00:00+00', labelled: true }, { bucket: '2026-11-20 13:01:00+00', labelled: true }], 'one note per minute, only from the first send');
    const state = await ctx.db.query(`SELECT "values" FROM device_state WHERE device = 'tag'`);
    t.same(state.rows[0].values, { temp: 30 }, 'labels are not values');
  });
});

t.test('an older version never overwrites a newer one in the cache', async (t) => {
  const ctx = await startTestProjector(t);
  const { writeThroughStates } = await import('../src/cache/write-through-states.ts');
  const state = (version: number, v: number) => ({
    tenantId: ctx.tenant, device: 'race', ts: '2026-11-20T12:00:00.000Z', state: { v: { v, t: Date.UTC(2026, 10, 20, 12) } }, updatedAt: '2026-11-20T12:00:00.000Z', version,
    changed: ['v'],
  });
  const options = { prefix: ctx.config.redisPrefix, ttlSeconds: 60, liveStreamMaxBytes: ctx.config.liveStreamMaxBytes };
  t.equal((await writeThroughStates(ctx.deps.cache, options, [state(5, 5)])).written, 1);
  t.equal((await writeThroughStates(ctx.deps.cache, options, [state(4, 4)])).written, 0, 'stale write refused');
  const body = await ctx.deps.cache.hget(redisKeys.deviceState(ctx.config.redisPrefix, ctx.tenant, 'race'), CACHED_STATE_FIELDS.body);
  t.same(JSON.parse(body as string).values, { v: 5 });
});

t.test('dead letters: a refused event is dead-lettered alone, a bad payload fails its job; a good batch survives truncated staging', async (t) => {
  const ctx = await startTestProjector(t);
  const waitFailed = async (id: string) => {
    for (let i = 0; i < 200; i++) {
      const job = await ctx.queue.getJob(id);
      // isFailed() reads the live state, but the job object is the snapshot getJob took a moment
      // before; read it again so attemptsMade and failedReason are the failed job's.
      if (job && (await job.isFailed())) return (await ctx.queue.getJob(id)) ?? job;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`job ${id} did not fail`);
  };
  // An event time outside PostgreSQL's range is a data error (SQLSTATE 22008): it can never succeed.
  await ctx.queue.add('batch', {
    batchId: '00000000-0000-4000-8000-0000000000ff',
    acceptedAt: Date.now(),
    events: [{ tenantId: ctx.tenant, device: 'p', key: 'i:1', ts: 1e20, type: 'reading', values: {} }],
  }, { jobId: 'poison', attempts: 5, backoff: { type: 'fixed', delay: 10 } });
  for (let i = 0; i < 200 && !(await ctx.db.query(`SELECT 1 FROM applied_batches WHERE batch_id = '00000000-0000-4000-8000-0000000000ff'`)).rowCount; i++) {
    await new Promise((r) => setTimeout(r, 25));
  }
  const dead = await ctx.db.query(`SELECT device, ts, sqlstate, failures FROM dead_letters WHERE batch_id = '00000000-0000-4000-8000-0000000000ff'`);
  t.same(dead.rows, [{ device: 'p', ts: null, sqlstate: '22008', failures: 1 }], 'the event is dead-lettered with its reason, in one attempt');
  t.equal(await (await ctx.queue.getJob('poison'))?.isCompleted(), true, 'and its batch completes');

  await ctx.queue.add('batch', { batchId: 'not-a-uuid', acceptedAt: Date.now(), events: [] } as never, { jobId: 'garbage', attempts: 5 });
  const garbage = await waitFailed('garbage');
  t.equal(garbage.attemptsMade, 1);
  t.match(garbage.failedReason, /invalid payload: batchId/);

  // The job carries the whole batch, so staging rows lost to a crash (TRUNCATE here) change nothing.
  await ctx.db.query(
    `INSERT INTO staging_events (batch_id, tenant_id, device, event_key, ts, type, "values")
     VALUES ('00000000-0000-4000-8000-0000000000aa', $1, 'trunc', 'i:t', now(), 'reading', '{"v":1}')`,
    [ctx.tenant],
  );
  await ctx.db.query('TRUNCATE staging_events');
  await ctx.project([{ device: 'trunc', id: 't', ts: '2026-11-20T12:00:00Z', values: { v: 1 } }]);
  const stored = await ctx.db.query(`SELECT "values" FROM tenant_events WHERE device = 'trunc'`);
  t.same(stored.rows, [{ values: { v: 1 } }]);
});

t.test('failures are classified: data errors poison, a database away defers, conflicts retry', async (t) => {
  const { classifyFailure } = await import('../src/processors/classify-failure.ts');
  t.equal(classifyFailure(Object.assign(new Error('out of range'), { code: '22008' })), 'poison');
  t.equal(classifyFailure(Object.assign(new Error('fk'), { code: '23503' })), 'poison');
  t.equal(classifyFailure(Object.assign(new Error('deadlock'), { code: '40P01' })), 'transient');
  t.equal(classifyFailure(Object.assign(new Error('serialization'), { code: '40001' })), 'transient');
  t.equal(classifyFailure(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })), 'unavailable');
  t.equal(classifyFailure(Object.assign(new Error('the database system is starting up'), { code: '57P03' })), 'unavailable');
  t.equal(classifyFailure(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' })), 'unavailable');
  t.equal(classifyFailure(new Error('Connection terminated unexpectedly')), 'unavailable');
  t.equal(classifyFailure(new Error('something else')), 'transient');
});
