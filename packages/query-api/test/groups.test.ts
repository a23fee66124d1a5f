import t from 'tap';
import { issueApiKey } from '@strata/core';
import { createTenant, recentBaseTime, seedEvents } from '@strata/testkit';
import { GroupSeriesResponses } from '../src/routes/group-schemas.ts';
import { buildTestApp, get, newTenant, schemaSerializer } from './helpers.ts';
import { foldLabelSamples } from './support/label-samples.ts';
import { eventually, startReplicaCluster } from './support/replica-cluster.ts';

const T0 = Date.UTC(2026, 10, 20, 12);
const MINUTE = 60_000;
const iso = (ms: number): string => new Date(ms).toISOString();

t.test("a label's values with their device counts now; another tenant's groups are invisible", async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  const other = await newTenant(deps.pool, 'other');
  await foldLabelSamples(deps.pool, tenant, [
    ...['a', 'b', 'c'].map((device) => ({ device, label: 'team', ts: T0, value: 'red' })),
    ...['d', 'e'].map((device) => ({ device, label: 'team', ts: T0, value: 'blue' })),
    // Moved: c red → blue; e's team removed; f was green once; an odd value and a label named __proto__.
    { device: 'c', label: 'team', ts: T0 + MINUTE, value: 'blue' },
    { device: 'e', label: 'team', ts: T0 + MINUTE, value: null },
    { device: 'f', label: 'team', ts: T0 - MINUTE, value: 'green' },
    { device: 'f', label: 'team', ts: T0, value: 'Ünïcode, = "x"' },
    { device: 'a', label: '__proto__', ts: T0, value: 'x' },
  ]);
  await foldLabelSamples(deps.pool, other.tenant, [{ device: 'a', label: 'team', ts: T0, value: 'violet' }]);

  const groups = await get(app, '/v1/groups/team', apiKey);
  t.equal(groups.status, 200);
  t.same(groups.body, {
    label: 'team',
    values: [
      { value: 'blue', devices: 2 },
      { value: 'red', devices: 2 },
      { value: 'Ünïcode, = "x"', devices: 1 },
    ],
    nextCursor: null,
    meta: { source: 'primary', consistency: 'eventual', lagMs: 0 },
  }, 'current versions only, code point order, devices labelled before any event count');
  t.same((await get(app, '/v1/groups/__proto__', apiKey)).body.values, [{ value: 'x', devices: 1 }]);
  t.same((await get(app, '/v1/groups/nothing', apiKey)).body.values, []);
  t.same((await get(app, '/v1/groups/team', other.apiKey)).body.values, [{ value: 'violet', devices: 1 }], 'the other tenant sees only its own');

  // The other tenant's group of the same name holds events; this tenant's series and total stay empty.
  await seedEvents(deps.pool, [{ tenantId: other.tenant, device: 'a', ts: T0 + 1000, values: { v: 5 } }]);
  const range = `from=${iso(T0)}&to=${iso(T0 + 10 * MINUTE)}`;
  t.same((await get(app, `/v1/groups/team/violet/series?value=v&agg=sum&${range}`, other.apiKey)).body.buckets, [{ ts: iso(T0), sum: 5 }]);
  t.same((await get(app, `/v1/groups/team/violet/series?value=v&agg=sum&${range}`, apiKey)).body.buckets, []);
  t.equal((await get(app, `/v1/groups/team/violet/total?value=v&at=${iso(T0 + MINUTE)}`, other.apiKey)).body.total, 5);
  t.equal((await get(app, `/v1/groups/team/violet/total?value=v&at=${iso(T0 + MINUTE)}`, apiKey)).body.total, 0);
});

t.test("a label's values a page at a time: every value once, in code point order, whatever the page size", async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  // 37 values, some sharing devices, with prefixes, case and non-ASCII to test the order at page edges.
  const names = Array.from({ length: 30 }, (_, i) => `v${String(i).padStart(2, '0')}`).concat(['V', 'v', 'v0', 'é', 'z', 'Z', '\u{1F642}']);
  await foldLabelSamples(deps.pool, tenant, names.flatMap((value, i) => Array.from({ length: 1 + (i % 3) }, (_, d) => ({ device: `d${i}-${d}`, label: 'tag', ts: T0, value }))));
  const all = (await get(app, '/v1/groups/tag?limit=10000', apiKey)).body;
  const expected = [...names].sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));
  t.same(all.values.map((v: { value: string }) => v.value), expected, 'one page: code point order');
  t.equal(all.nextCursor, null);
  for (const size of [1, 4, 10, 36, 37]) {
    const seen: { value: string; devices: number }[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const answer = await get(app, `/v1/groups/tag?limit=${size}${cursor ? `&cursor=${cursor}` : ''}`, apiKey);
      t.equal(answer.status, 200);
      if (answer.status !== 200) break;
      seen.push(...answer.body.values);
      cursor = answer.body.nextCursor;
      pages++;
      if (cursor !== null) t.equal(answer.body.values.length, size, 'a page with a next one is full');
    } while (cursor !== null && pages < 100);
    t.same(seen, all.values, `pages of ${size}: every value once (${pages} pages)`);
    t.equal(pages, Math.ceil(names.length / size));
  }
  t.equal((await get(app, '/v1/groups/tag', apiKey)).body.values.length, names.length, 'default page size 1,000');
});

t.test('consistency routing: every group read names its source in meta and headers', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  await foldLabelSamples(deps.pool, tenant, [{ device: 'a', label: 'team', ts: T0, value: 'red' }]);
  await seedEvents(deps.pool, [{ tenantId: tenant, device: 'a', ts: T0 + 1000, values: { v: 2 } }]);
  const urls = ['/v1/groups/team', `/v1/groups/team/red/series?value=v&from=${iso(T0)}&to=${iso(T0 + MINUTE)}`, `/v1/groups/team/red/total?value=v&at=${iso(T0 + MINUTE)}`];
  for (const url of urls) {
    for (const consistency of ['strong', 'eventual', 'cache']) {
      const answer = await get(app, `${url}${url.includes('?') ? '&' : '?'}consistency=${consistency}`, apiKey);
      t.equal(answer.status, 200, `${url} ${consistency}`);
      // No replica here, and no cache holds groups: every level ends on the primary.
      t.same(answer.body.meta, { source: 'primary', consistency, lagMs: 0 }, `${url} ${consistency}: meta`);
      t.equal(answer.headers['x-read-source'], 'primary');
      t.equal(answer.headers['x-read-lag-ms'], '0');
    }
    t.equal((await get(app, url, apiKey, { 'x-consistency': 'strong' })).body.meta.consistency, 'strong', `${url}: header form`);
  }
  const total = await get(app, `/v1/groups/team/red/total?value=v&at=${iso(T0 + MINUTE)}`, apiKey);
  t.same(total.body, { total: 2, at: iso(T0 + MINUTE), meta: { source: 'primary', consistency: 'eventual', lagMs: 0 } });
  const series = await get(app, `/v1/groups/team/red/series?value=v&agg=devices,sum,avg&interval=1h&from=${iso(T0)}&to=${iso(T0 + MINUTE)}`, apiKey);
  t.same(series.body, {
    label: 'team',
    labelValue: 'red',
    value: 'v',
    interval: '1h',
    buckets: [{ ts: iso(T0), devices: 1, sum: 2, avg: 2 }],
    meta: { source: 'primary', consistency: 'eventual', lagMs: 0 },
  }, 'aggregates in the order asked');
  // Written as text past the schema's serializer (decision 0099): byte for byte what it wrote, same headers.
  t.equal(series.text, schemaSerializer(GroupSeriesResponses[200])(series.body), 'the text the response schema would have written');
  t.equal(series.headers['content-type'], 'application/json; charset=utf-8');
  t.equal(series.headers['x-read-source'], 'primary');
  t.equal(series.headers['x-read-lag-ms'], '0');
});

t.test('every malformed parameter is a 400 naming it; nothing reaches the database', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { apiKey } = await newTenant(deps.pool);
  const long = 'x'.repeat(129);
  const series = (query: string, path = 'team/red'): string => `/v1/groups/${path}/series?${query}`;
  const total = (query: string, path = 'team/red'): string => `/v1/groups/${path}/total?${query}`;
  const cases: [string, string][] = [
    [`/v1/groups/${long}`, 'label'],
    ['/v1/groups/te%00am', 'label'],
    ['/v1/groups/team?consistency=fresh', 'consistency'],
    ['/v1/groups/team?maxStalenessMs=-1', 'maxStalenessMs'],
    ['/v1/groups/team?limit=0', 'limit'],
    ['/v1/groups/team?limit=10001', 'limit'],
    ['/v1/groups/team?limit=1e3', 'limit'],
    ['/v1/groups/team?cursor=bogus', 'cursor'],
    [`/v1/groups/team?cursor=${Buffer.from(JSON.stringify(['group-values', ''])).toString('base64url')}`, 'cursor'],
    [`/v1/groups/team?cursor=${Buffer.from(JSON.stringify(['group-values', 'x'.repeat(129)])).toString('base64url')}`, 'cursor'],
    [`/v1/groups/team?cursor=${Buffer.from(JSON.stringify(['group-values', 'a\u0000'])).toString('base64url')}`, 'cursor'],
    [`/v1/groups/team?cursor=${Buffer.from(JSON.stringify(['device', 'a'])).toString('base64url')}`, 'cursor'],
    [series('value=v', `${long}/red`), 'label'],
    [series('value=v', `team/${long}`), 'labelValue'],
    [series('value=v', 'team/re%00d'), 'labelValue'],
    [series(''), 'value'],
    [series(`value=${long}`), 'value'],
    [series('value=v%00'), 'value'],
    [series('value=v&interval=2m'), 'interval'],
    [series('value=v&interval=1M'), 'interval'],
    [series('value=v&agg=median'), 'agg'],
    [series('value=v&agg=sum,'), 'agg'],
    [series('value=v&from=yesterday'), 'from'],
    [series('value=v&to=2026-13-01T00:00:00Z'), 'to'],
    [series(`value=v&from=${iso(T0)}&to=${iso(T0)}`), 'to'],
    [series(`value=v&interval=1m&from=${iso(T0)}&to=${iso(T0 + 30 * 86_400_000)}`), 'interval'],
    [series('value=v&interval=1d&to=9999-12-31T23:00:00Z'), 'to'],
    [series('value=v&after=b1.bogus'), 'after'],
    [total(''), 'value'],
    [total('value=v', `team/${long}`), 'labelValue'],
    [total('value=v&at=soon'), 'at'],
    [total('value=v&at=9999-12-31T23:00:00Z'), 'at'],
    [total('value=v&at=1e400'), 'at'],
    [total('value=v&consistency=latest'), 'consistency'],
  ];
  for (const [url, field] of cases) {
    const answer = await get(app, url, apiKey);
    t.equal(answer.status, 400, url);
    t.equal(answer.body.error?.code, 'invalid_request', url);
    t.equal(answer.body.error?.details?.[0]?.field, field, `${url} names ${field}`);
  }
});

t.test('groups are tenant-wide: a key bound to one device, a write key or no key may not read them', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  await deps.authenticator.ready;
  const bound = (await issueApiKey(deps.pool, tenant, { scope: 'read', device: 'a' }))?.apiKey;
  const writeOnly = (await issueApiKey(deps.pool, tenant, { scope: 'write' }))?.apiKey;
  for (const url of ['/v1/groups/team', '/v1/groups/team/red/series?value=v', '/v1/groups/team/red/total?value=v']) {
    t.equal((await get(app, url, apiKey)).status, 200, url);
    t.equal((await get(app, url, bound)).status, 403, `${url}: device-bound key`);
    t.equal((await get(app, url, writeOnly)).status, 403, `${url}: write key`);
    t.equal((await get(app, url, undefined)).status, 401, `${url}: no key`);
  }
});

t.test('group reads on real streaming replicas: eventual from a fresh replica, strong never', async (t) => {
  const cluster = await startReplicaCluster(t);
  const { primary, replicas } = cluster;
  const tenant = await createTenant(primary, 'groups');
  const { app, deps } = await cluster.queryApi();
  const base = recentBaseTime();
  await foldLabelSamples(primary, tenant.tenant, [{ device: 'a', label: 'team', ts: base - MINUTE, value: 'red' }]);
  await seedEvents(primary, Array.from({ length: 10 }, (_, i) => ({ tenantId: tenant.tenant, device: 'a', ts: base + i * 1000, key: `i:${i}`, values: { v: 1 } })));
  for (const name of ['r1', 'r2'] as const) {
    await eventually(`${name} has the labels and events`, async () => (await replicas[name].pool.query(`SELECT 1 FROM label_versions WHERE tenant_id = $1`, [tenant.tenant])).rowCount === 1);
  }
  await eventually('both replicas probed fresh', async () => deps.replicas.views(Date.now()).every((v) => v.healthy && (v.lagMs ?? 1e9) < 1000));
  const urls = [
    '/v1/groups/team',
    `/v1/groups/team/red/series?value=v&interval=1h&agg=count&from=${iso(base)}&to=${iso(base + MINUTE)}`,
    `/v1/groups/team/red/total?value=v&at=${iso(base + MINUTE)}`,
  ];
  const expected = [{ values: [{ value: 'red', devices: 1 }] }, { buckets: [{ ts: iso(Math.floor(base / 3_600_000) * 3_600_000), count: 10 }] }, { total: 10 }];
  for (const [i, url] of urls.entries()) {
    const eventual = await get(app, url, tenant.apiKey);
    t.equal(eventual.status, 200, url);
    t.match(eventual.headers['x-read-source'], /^replica:r[12]$/, `${url}: eventual from a replica`);
    t.equal(eventual.body.meta.source, eventual.headers['x-read-source']);
    t.match(eventual.body, expected[i], `${url}: the replica's answer`);
    const strong = await get(app, `${url}${url.includes('?') ? '&' : '?'}consistency=strong`, tenant.apiKey);
    t.equal(strong.headers['x-read-source'], 'primary', `${url}: strong from the primary`);
    t.match(strong.body, expected[i]);
  }
});
