import t from 'tap';
import { seedEvents, type SeedEvent } from '@strata/testkit';
import { buildTestApp, get, newTenant } from './helpers.ts';

const T0 = Date.UTC(2026, 10, 20, 12);

t.test('history is newest first and pages through ties at the same instant', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  const events: SeedEvent[] = [];
  for (let i = 0; i < 40; i++) {
    // Groups of four events share an instant, so page boundaries fall inside groups.
    const key = i % 2 === 0 ? `i:id-${i}` : `h:digest${String(i).padStart(3, '0')}`;
    events.push({ tenantId: tenant, device: 'band', ts: T0 + Math.floor(i / 4) * 1000, key, type: i % 3 === 0 ? 'alarm' : 'reading', values: { n: i } });
  }
  await seedEvents(deps.pool, events);

  const seen: number[] = [];
  let cursor: string | null = null;
  let previous = Number.POSITIVE_INFINITY;
  do {
    const page = await get(app, `/v1/devices/band/events?limit=3${cursor ? `&cursor=${cursor}` : ''}`, apiKey);
    t.equal(page.status, 200);
    for (const item of page.body.items) {
      const ts = Date.parse(item.ts);
      t.ok(ts <= previous, 'newest first');
      previous = ts;
      seen.push(item.values.n);
      if (item.values.n % 2 === 0) t.equal(item.id, `id-${item.values.n}`);
      else t.notOk('id' in item, 'digests are not shown as ids');
    }
    cursor = page.body.nextCursor;
  } while (cursor);
  t.same([...seen].sort((a, b) => a - b), events.map((_, i) => i), 'every event exactly once');

  const alarms = await get(app, '/v1/devices/band/events?type=alarm&limit=1000', apiKey);
  t.same(alarms.body.items.map((i: { type: string }) => i.type), Array(14).fill('alarm'));
  const from = new Date(T0 + 2000).toISOString();
  const ranged = await get(app, `/v1/devices/band/events?from=${from}&to=${(T0 + 4000) / 1000}`, apiKey);
  t.same(
    ranged.body.items.map((i: { values: { n: number } }) => i.values.n).sort((a: number, b: number) => a - b),
    [8, 9, 10, 11, 12, 13, 14, 15],
    'from inclusive, to exclusive; seconds accepted',
  );
  t.same(ranged.body.meta, { source: 'primary', consistency: 'eventual', lagMs: 0 });
  t.same((await get(app, '/v1/devices/other/events', apiKey)).body.items, []);
});

t.test('history parameters are validated', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { apiKey } = await newTenant(deps.pool);
  const cases: [string, string][] = [
    ['from=yesterday', 'from'],
    ['to=2026-01-01', 'to'],
    ['from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', 'to'],
    ['type=a%00b', 'type'],
    [`type=${'t'.repeat(129)}`, 'type'],
    ['limit=5000', 'limit'],
    ['cursor=' + Buffer.from('["values.temp:asc","x","y"]').toString('base64url'), 'cursor'],
  ];
  for (const [query, field] of cases) {
    const response = await get(app, `/v1/devices/band/events?${query}`, apiKey);
    t.equal(response.status, 400, query);
    t.equal(response.body.error.details[0].field, field, query);
  }
  const badDevice = await get(app, '/v1/devices/has%20space/events', apiKey);
  t.equal(badDevice.status, 400);
  t.match(badDevice.body.error.details[0].field, /device/);
});
