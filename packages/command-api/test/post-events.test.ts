import t from 'tap';
import { decodeToken } from '@strata/core';
import { createTenant } from '@strata/testkit';
import { buildTestApp, countStaged } from './build-test-app.ts';

t.test('POST /v1/events', async (t) => {
  const ctx = await buildTestApp(t, { ingestMaxWaitMs: 1 });
  const auth = { authorization: `Bearer ${ctx.tenant.apiKey}` };
  const post = (payload: unknown, headers: Record<string, string> = {}) =>
    ctx.app.inject({ method: 'POST', url: '/v1/events', headers: { ...auth, 'content-type': 'application/json', ...headers }, payload: payload as string });

  t.test('a single event is staged and queued, and answered with a token', async (t) => {
    const response = await post({ device: 'fitband-alpha', id: 'a1b2', ts: '2026-11-20T12:00:00Z', values: { heartRate: 88, temp: 36.6, status: 'ok' } });
    t.equal(response.statusCode, 202);
    const body = response.json();
    t.equal(body.accepted, 1);
    const batchId = decodeToken(body.token);
    t.ok(batchId, 'the token names a batch');
    const staged = await ctx.db.query('SELECT device, event_key, ts, type, "values" FROM staging_events WHERE batch_id = $1', [batchId]);
    t.same(staged.rows, [{ device: 'fitband-alpha', event_key: 'i:a1b2', ts: '2026-11-20 12:00:00+00', type: 'reading', values: { heartRate: 88, temp: 36.6, status: 'ok' } }]);
    const job = await ctx.queue.getJob(batchId as string);
    t.equal(job?.data.events.length, 1);
    t.equal(job?.data.events[0]?.tenantId, ctx.tenant.tenant, 'the job carries the tenant');
  });

  t.test('the batch form and the flat device form', async (t) => {
    const response = await post({
      events: [
        { device: 'd1', ts: 1750240800, heartRateValue: 88, charging: true },
        { device: 'd2', timestamp: 1750240800123, type: 'door', open: null },
      ],
    });
    t.equal(response.statusCode, 202);
    t.equal(response.json().accepted, 2);
    const staged = await ctx.db.query(
      `SELECT device, ts, type, "values" FROM staging_events WHERE batch_id = $1 ORDER BY device`,
      [decodeToken(response.json().token)],
    );
    t.same(staged.rows, [
      { device: 'd1', ts: '2025-06-18 10:00:00+00', type: 'reading', values: { heartRateValue: 88, charging: true } },
      { device: 'd2', ts: '2025-06-18 10:00:00.123+00', type: 'door', values: { open: null } },
    ]);
  });

  t.test('NDJSON bodies', async (t) => {
    const lines = ['{"device":"n1","ts":"2026-11-20T12:00:00Z","values":{"a":1}}', '', '{"device":"n2","ts":"2026-11-20T12:00:01Z","values":{"a":2}}'];
    const response = await post(lines.join('\n'), { 'content-type': 'application/x-ndjson' });
    t.equal(response.statusCode, 202);
    t.equal(response.json().accepted, 2);
  });

  t.test('400 lists every invalid event by index and field, and stores nothing', async (t) => {
    const before = await countStaged(ctx.db);
    const jobsBefore = await ctx.queue.count();
    const response = await post({
      events: [
        { device: 'ok-device', ts: '2026-11-20T12:00:00Z', values: { a: 1 } },
        { device: 'bad device!', ts: '2026-11-20T12:00:00Z' },
        { device: 'x', ts: 'yesterday', values: { nested: { no: 1 } } },
        { ts: '2026-11-20T12:00:00Z' },
      ],
    });
    t.equal(response.statusCode, 400);
    const body = response.json();
    t.equal(body.error.code, 'invalid_events');
    t.same(
      body.error.details.map((d: { index: number; field: string }) => [d.index, d.field]),
      [[1, 'device'], [2, 'ts'], [2, 'values.nested'], [3, 'device']],
    );
    t.ok(body.error.details.every((d: { reason: string }) => d.reason.length > 0), 'every problem says why');
    t.equal(await countStaged(ctx.db), before, 'nothing staged');
    t.equal(await ctx.queue.count(), jobsBefore, 'nothing queued');
  });

  t.test('bad NDJSON lines are reported by index', async (t) => {
    const response = await post('{"device":"n1","ts":1750240800}\n{not json}\n', { 'content-type': 'application/x-ndjson' });
    t.equal(response.statusCode, 400);
    t.same(response.json().error.details, [{ index: 1, field: 'event', reason: 'line is not valid JSON' }]);
  });

  t.test('labels ride with events: staged and queued in JSON, flat and NDJSON forms', async (t) => {
    // As text: an object literal's `__proto__: 'kept'` would not even be a key.
    const response = await post(`{"events": [
      {"device": "lab-1", "ts": "2026-11-20T12:00:00Z", "values": {"taps": 1}, "labels": {"team": "red", "site": "Köln, Süd"}},
      {"device": "lab-2", "ts": "2026-11-20T12:00:00Z", "taps": 1, "labels": {"team": "blue", "__proto__": "kept"}},
      {"device": "lab-3", "ts": "2026-11-20T12:00:00Z", "values": {"taps": 1}, "labels": {}},
      {"device": "lab-4", "ts": "2026-11-20T12:00:00Z", "values": {"taps": 1}, "labels": null}
    ]}`);
    t.equal(response.statusCode, 202);
    const batchId = decodeToken(response.json().token) as string;
    const staged = await ctx.db.query('SELECT device, "values", labels FROM staging_events WHERE batch_id = $1 ORDER BY device', [batchId]);
    t.same(staged.rows, [
      { device: 'lab-1', values: { taps: 1 }, labels: { team: 'red', site: 'Köln, Süd' } },
      { device: 'lab-2', values: { taps: 1 }, labels: JSON.parse('{"team":"blue","__proto__":"kept"}') },
      { device: 'lab-3', values: { taps: 1 }, labels: null },
      { device: 'lab-4', values: { taps: 1 }, labels: null },
    ]);
    t.ok(Object.hasOwn(staged.rows[1].labels, '__proto__'), 'a label named __proto__ is a plain label, not a prototype');
    t.notOk(Object.hasOwn(staged.rows[1].values, 'labels'), 'the flat form never turns labels into a value');
    const job = await ctx.queue.getJob(batchId);
    t.same(job?.data.events.map((event) => event.labels), [{ team: 'red', site: 'Köln, Süd' }, JSON.parse('{"team":"blue","__proto__":"kept"}'), undefined, undefined]);
    const ndjson = await post('{"device":"lab-5","ts":"2026-11-20T12:00:00Z","values":{"taps":1},"labels":{"team":"green"}}\n', { 'content-type': 'application/x-ndjson' });
    t.equal(ndjson.statusCode, 202);
    const row = await ctx.db.query('SELECT labels FROM staging_events WHERE batch_id = $1', [decodeToken(ndjson.json().token)]);
    t.same(row.rows[0]?.labels, { team: 'green' });
  });

  t.test('the same event with other labels is another event; without labels its key is unchanged', async (t) => {
    const base = { device: 'lab-key', ts: '2026-11-20T12:00:00Z', values: { taps: 1 } };
    const plain = await post(base);
    const red = await post({ ...base, labels: { team: 'red' } });
    const blue = await post({ ...base, labels: { team: 'blue' } });
    const empty = await post({ ...base, labels: {} });
    const keys = await Promise.all([plain, red, blue, empty].map(async (response) => {
      const rows = await ctx.db.query<{ event_key: string }>('SELECT event_key FROM staging_events WHERE batch_id = $1', [decodeToken(response.json().token)]);
      return rows.rows[0]?.event_key;
    }));
    t.equal(new Set(keys.slice(0, 3)).size, 3, 'plain, red and blue are three events');
    t.equal(keys[3], keys[0], 'empty labels are no labels: the same key');
  });

  t.test('bad labels: 400 naming each event and field, and nothing of the batch is stored', async (t) => {
    const before = await countStaged(ctx.db);
    const jobsBefore = await ctx.queue.count();
    const ts = '2026-11-20T12:00:00Z';
    const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v']));
    const response = await post({
      events: [
        { device: 'ok', ts, values: { a: 1 }, labels: { team: 'red' } },
        { device: 'b1', ts, labels: many },
        { device: 'b2', ts, labels: { team: 'x'.repeat(129) } },
        { device: 'b3', ts, labels: { team: 7 } },
        { device: 'b4', ts, labels: { ['\uD800team']: 'red' } },
        { device: 'b5', ts, labels: { team: 're\u0000d' } },
        { device: 'b6', ts, labels: 'team=red' },
        { device: 'b7', ts, labels: { team: '' } },
      ],
    });
    t.equal(response.statusCode, 400);
    const details = response.json().error.details as { index: number; field: string; reason: string }[];
    t.same(details.map((d) => d.index), [1, 2, 3, 4, 5, 6, 7], 'every bad event, and only those');
    t.ok(details.every((d) => d.field === 'labels' || d.field.startsWith('labels.')), 'each names the labels field');
    t.match(details[0]?.reason, /32/);
    t.equal(await countStaged(ctx.db), before, 'nothing staged');
    t.equal(await ctx.queue.count(), jobsBefore, 'nothing queued');
  });

  t.test('malformed JSON, empty and oversized batches are 400', async (t) => {
    t.equal((await post('{"device":')).statusCode, 400);
    t.equal((await post({ events: [] })).statusCode, 400);
    t.equal((await post({ events: 'nope' })).statusCode, 400);
    const many = Array.from({ length: 10_001 }, (_, i) => ({ device: 'd', ts: 1750240800 + i }));
    const response = await post({ events: many });
    t.equal(response.statusCode, 400);
    t.match(response.json().error.details[0].reason, /at most 10000/);
  });

  t.test('401 without or with a wrong key', async (t) => {
    const event = { device: 'd', ts: 1750240800 };
    const none = await ctx.app.inject({ method: 'POST', url: '/v1/events', payload: event });
    t.equal(none.statusCode, 401);
    t.equal(none.json().error.code, 'unauthorized');
    const wrong = await post(event, { authorization: 'Bearer sk_wrong' });
    t.equal(wrong.statusCode, 401);
  });

  t.test('413 above the body limit', async (t) => {
    const big = JSON.stringify({ device: 'd', ts: 1750240800, values: { s: 'x'.repeat(6 * 1024 * 1024) } });
    const response = await post(big);
    t.equal(response.statusCode, 413);
    t.equal(response.json().error.code, 'payload_too_large');
  });

  t.test('415 for other content types', async (t) => {
    const response = await post('device=d', { 'content-type': 'text/plain' });
    t.equal(response.statusCode, 415);
    t.equal(response.json().error.code, 'unsupported_media_type');
    const form = await post('device=d', { 'content-type': 'application/x-www-form-urlencoded' });
    t.equal(form.statusCode, 415);
  });

  t.test('concurrent single-event requests share group-commit batches', async (t) => {
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) => post({ device: `g${i}`, ts: 1750240800 + i, values: { v: i } })),
    );
    t.ok(responses.every((r) => r.statusCode === 202));
    const batches = new Set(responses.map((r) => r.json().token));
    t.ok(batches.size < 50, `50 requests used ${batches.size} batches`);
    const staged = await ctx.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM staging_events WHERE device LIKE 'g%'`,
    );
    t.equal(staged.rows[0]?.n, 50);
  });
});

t.test('429 over the tenant rate, counted in events; another tenant is unaffected', async (t) => {
  const ctx = await buildTestApp(t, { ingestMaxWaitMs: 1, ingestRateLimitEventsPerSecond: 5 });
  const other = await createTenant(ctx.db, 'tenant B');
  const post = (apiKey: string, payload: unknown) =>
    ctx.app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${apiKey}` }, payload: payload as object });
  const events = (n: number, device = 'd') => ({ events: Array.from({ length: n }, (_, i) => ({ device, ts: Date.now() - i, values: { v: i } })) });

  t.equal((await post(ctx.tenant.apiKey, events(5))).statusCode, 202, "one request carrying a second's worth of events");
  const over = await post(ctx.tenant.apiKey, events(1));
  t.equal(over.statusCode, 429, 'the next event is over the rate: events are counted, not requests');
  t.equal(over.json().error.code, 'rate_limited');
  t.match(over.json().error.message, /5 events per second/);
  t.ok(Number(over.headers['retry-after']) >= 1, `retry-after ${over.headers['retry-after']}`);
  const staged = await ctx.db.query(`SELECT count(*)::int AS n FROM staging_events WHERE tenant_id = $1`, [ctx.tenant.tenant]);
  t.equal(staged.rows[0].n, 5, 'nothing of the refused request is stored');

  t.equal((await post(other.apiKey, events(5))).statusCode, 202, 'tenant B still gets 202 while A is over its rate');
  // A request larger than the rate is not refused forever: a tenant without backlog may send it, then waits it off.
  const third = await createTenant(ctx.db, 'tenant C');
  t.equal((await post(third.apiKey, events(12))).statusCode, 202, 'a batch above the per-second rate passes once');
  t.equal((await post(third.apiKey, events(1))).statusCode, 429, 'and the tenant then waits');
});

t.test('concurrent requests share rate-limit calls yet are counted one by one, per tenant', async (t) => {
  const ctx = await buildTestApp(t, { ingestMaxWaitMs: 1, ingestRateLimitEventsPerSecond: 5 });
  const other = await createTenant(ctx.db, 'tenant B');
  const post = (apiKey: string, i: number) =>
    ctx.app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${apiKey}` }, payload: { device: 'd', ts: Date.now() - i, values: { v: i } } });
  const responses = await Promise.all(Array.from({ length: 40 }, (_, i) => post(i % 2 ? other.apiKey : ctx.tenant.apiKey, i)));
  for (const [name, parity] of [['A', 0], ['B', 1]] as const) {
    const mine = responses.filter((_, i) => i % 2 === parity).map((r) => r.statusCode);
    const accepted = mine.filter((status) => status === 202).length;
    // A second's worth (5 events) within the one-second burst; a sixth only if 200 ms passed meanwhile.
    t.ok(accepted >= 5 && accepted <= 6, `tenant ${name}: ${accepted} of 20 accepted`);
    t.equal(mine.filter((status) => status === 429).length, 20 - accepted, `tenant ${name}: the rest are refused with 429`);
  }
});

t.test('an event older than the retention window is refused with its reason, and nothing is stored', async (t) => {
  const ctx = await buildTestApp(t, { ingestMaxWaitMs: 1, retentionDays: 7 });
  const now = Date.now();
  const auth = { authorization: `Bearer ${ctx.tenant.apiKey}` };
  const response = await ctx.app.inject({
    method: 'POST',
    url: '/v1/events',
    headers: auth,
    payload: {
      events: [
        { device: 'late', ts: now - 6 * 86_400_000, values: { a: 1 } },
        { device: 'old', ts: new Date(now - 8 * 86_400_000).toISOString(), values: { a: 2 } },
        { device: 'ancient', ts: 1_000_000_000, values: { a: 3 } },
      ],
    },
  });
  t.equal(response.statusCode, 400);
  t.same(response.json().error.details, [
    { index: 1, field: 'ts', reason: 'older than the retention of 7 days' },
    { index: 2, field: 'ts', reason: 'older than the retention of 7 days' },
  ]);
  t.equal(await countStaged(ctx.db), 0, 'not even the event inside the window is stored');
  t.equal(await ctx.queue.count(), 0, 'nothing queued');
  const inside = await ctx.app.inject({ method: 'POST', url: '/v1/events', headers: auth, payload: { device: 'late', ts: now - 6 * 86_400_000, values: { a: 1 } } });
  t.equal(inside.statusCode, 202, 'a late event inside the window is accepted');
});
