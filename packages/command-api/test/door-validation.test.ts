import t from 'tap';
import { startInProcessProjector, waitForToken } from '@strata/testkit';
import { buildTestApp, countStaged, type CommandTestContext } from './build-test-app.ts';

/*
 * Issue 9, findings 2, 6 and 9 at the door: everything PostgreSQL could refuse (or silently change)
 * is refused with 400 naming index, field and reason, and nothing of the request is stored.
 */

const HOUR = 3_600_000;

function poster(ctx: CommandTestContext) {
  return (payload: unknown, contentType = 'application/json') =>
    ctx.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { authorization: `Bearer ${ctx.tenant.apiKey}`, 'content-type': contentType },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });
}

t.test('hostile values are refused at the door, by index, field and reason, and nothing is stored', async (t) => {
  const ctx = await buildTestApp(t, { ingestMaxWaitMs: 1, retentionDays: 30 });
  const post = poster(ctx);
  const now = Date.now();
  const ts = new Date(now - HOUR).toISOString();
  const valid = { device: 'fine', ts, values: { v: 1 } };
  const cases: [string, Record<string, unknown>, string][] = [
    ['U+0000 in a string value', { device: 'a', ts, values: { s: 'a\u0000b' } }, 'values.s'],
    ['U+0000 in an id', { device: 'a', ts, id: 'id\u0000', values: { v: 1 } }, 'id'],
    ['a lone surrogate in a value', { device: 'a', ts, values: { s: 'x\ud800y' } }, 'values.s'],
    ['a lone surrogate in an id', { device: 'a', ts, id: 'x\udc00', values: { v: 1 } }, 'id'],
    ['a lone surrogate in a value key', { device: 'a', ts, values: { 'k\ud800': 1 } }, 'values.k\ud800'],
    ['1.7e308', { device: 'a', ts, values: { x: 1.7e308 } }, 'values.x'],
    ['-1.7e308', { device: 'a', ts, values: { x: -1.7e308 } }, 'values.x'],
    ['the far future', { device: 'a', ts: '9999-12-31T23:59:59Z', values: { v: 1 } }, 'ts'],
    ['two hours ahead', { device: 'a', ts: new Date(now + 2 * HOUR).toISOString(), values: { v: 1 } }, 'ts'],
    ['two hours ahead as a number', { device: 'a', ts: now + 2 * HOUR, values: { v: 1 } }, 'ts'],
    ['November 31st', { device: 'a', ts: `${new Date(now).getUTCFullYear()}-11-31T12:00:00Z`, values: { v: 1 } }, 'ts'],
    ['a 129-character name', { device: 'a', ts, values: { ['n'.repeat(129)]: 1 } }, `values.${'n'.repeat(129)}`],
    ['a 129-character type', { device: 'a', ts, type: 't'.repeat(129), values: { v: 1 } }, 'type'],
    ['a string of 64 KiB + 1', { device: 'a', ts, values: { s: 'x'.repeat(64 * 1024 + 1) } }, 'values.s'],
  ];
  for (const [name, event, field] of cases) {
    const response = await post({ events: [valid, event] });
    t.equal(response.statusCode, 400, name);
    const details = response.json().error.details as { index: number; field: string; reason: string }[];
    t.same(details.map((d) => [d.index, d.field]), [[1, field]], `${name}: names index and field`);
    t.ok(details[0]?.reason, `${name}: says why (${details[0]?.reason})`);
  }
  t.equal(await countStaged(ctx.db), 0, 'not even the valid events of those requests are staged');
  t.equal(await ctx.queue.count(), 0, 'nothing queued');

  const soon = await post({ device: 'a', ts: new Date(now + HOUR / 2).toISOString(), values: { v: 1 } });
  t.equal(soon.statusCode, 202, 'half an hour ahead is within the default skew of one hour');
  const edge = await post({ events: [{ device: 'a', ts, values: { s: 'x'.repeat(64 * 1024), big: 1e300 } }] });
  t.equal(edge.statusCode, 202, 'exactly 64 KiB and 1e300 are accepted');
});

t.test('the allowed future skew is MAX_FUTURE_SKEW_MS', async (t) => {
  const ctx = await buildTestApp(t, { ingestMaxWaitMs: 1, maxFutureSkewMs: 60_000 });
  const post = poster(ctx);
  const response = await post({ device: 'a', ts: Date.now() + 5 * 60_000, values: { v: 1 } });
  t.equal(response.statusCode, 400);
  t.match(response.json().error.details[0].reason, /later than 60000 ms ahead/);
  t.equal((await post({ device: 'a', ts: Date.now() + 30_000, values: { v: 1 } })).statusCode, 202);
});

t.test('names of any storable Unicode and __proto__ keys reach history exactly as sent (JSON and NDJSON)', async (t) => {
  const ctx = await buildTestApp(t, { ingestMaxWaitMs: 1, retentionDays: 30 });
  await startInProcessProjector(t, ctx.config);
  const post = poster(ctx);
  const ts = Date.now() - HOUR;

  // Written as text: JSON.stringify of an object literal would already have dropped `__proto__`.
  const protoJson = `{"device":"proto-json","ts":${ts},"values":{"__proto__":1,"constructor":"c","toString":true}}`;
  const json = await post(protoJson);
  t.equal(json.statusCode, 202, 'a JSON body with __proto__ is accepted');
  const ndjson = await post(`{"device":"proto-ndjson","ts":${ts},"__proto__":2,"valueOf":3}\n`, 'application/x-ndjson');
  t.equal(ndjson.statusCode, 202, 'an NDJSON flat event with __proto__ is accepted');

  const names = ['heart rate', 'a,b', 'x=1', 'say "hi"', 'temp.°C', '温度', '\u{1F321} outside', 'n'.repeat(128)];
  const unicode = await post({ device: 'names', ts, type: 'door opened, "front"', values: Object.fromEntries(names.map((n, i) => [n, i])) });
  t.equal(unicode.statusCode, 202, 'names with spaces, commas, quotes and non-ASCII are accepted');

  for (const response of [json, ndjson, unicode]) await waitForToken(ctx.db, response.json().token);
  const stored = await ctx.db.query<{ device: string; type: string; values: string }>(
    `SELECT device, type, "values"::text AS values FROM tenant_events WHERE device IN ('proto-json', 'proto-ndjson', 'names') ORDER BY device`,
  );
  const byDevice = Object.fromEntries(stored.rows.map((row) => [row.device, row]));
  // Parsed back with JSON.parse into null-prototype reading: compare the key lists of the text.
  const keysOf = (text: string | undefined) => Object.keys(JSON.parse(text ?? '{}', function (this: unknown, _k, v) {
    return v && typeof v === 'object' && !Array.isArray(v) ? Object.assign(Object.create(null), v) : v;
  }) as object);
  t.match(byDevice['proto-json']?.values, /"__proto__": 1/, 'history holds __proto__ (JSON)');
  t.same(keysOf(byDevice['proto-json']?.values).sort(), ['__proto__', 'constructor', 'toString']);
  t.match(byDevice['proto-ndjson']?.values, /"__proto__": 2/, 'history holds __proto__ (NDJSON)');
  t.same(Object.keys(JSON.parse(byDevice.names?.values ?? '{}')).sort(), [...names].sort(), 'every name stored exactly');
  t.equal(byDevice.names?.type, 'door opened, "front"');
});
