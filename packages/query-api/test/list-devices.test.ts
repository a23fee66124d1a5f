import t from 'tap';
import type { EventValues } from '@strata/core';
import { seedEvents, type SeedEvent } from '@strata/testkit';
import { buildTestApp, get, newTenant } from './helpers.ts';

const T0 = Date.UTC(2026, 10, 20, 12);

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

t.test('pagination visits every device exactly once for every sort and order', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  const next = random(42);
  const devices: string[] = [];
  const events: SeedEvent[] = [];
  for (let i = 0; i < 250; i++) {
    const device = `dev-${String(i).padStart(3, '0')}`;
    devices.push(device);
    // Few distinct timestamps and temps, so ties must be broken by device; some temps missing or not numbers.
    const ts = T0 + Math.floor(next() * 20) * 1000;
    const roll = next();
    const values: EventValues = { n: i };
    if (roll < 0.7) values.temp = 35 + Math.floor(next() * 10) / 2;
    else if (roll < 0.8) values.temp = 'hot';
    else if (roll < 0.85) values.temp = null;
    else if (roll < 0.9) values.temp = true;
    events.push({ tenantId: tenant, device, ts, values });
  }
  await seedEvents(deps.pool, events);

  for (const sort of ['device', 'ts', 'values.temp']) {
    for (const order of ['asc', 'desc']) {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const url: string = `/v1/devices?limit=7&sort=${sort}&order=${order}${cursor ? `&cursor=${cursor}` : ''}`;
        const page = await get(app, url, apiKey);
        t.equal(page.status, 200, url);
        t.ok(page.body.items.length <= 7);
        seen.push(...page.body.items.map((item: { device: string }) => item.device));
        cursor = page.body.nextCursor;
        pages++;
      } while (cursor && pages < 100);
      t.equal(seen.length, 250, `${sort} ${order}: count`);
      t.same([...seen].sort(), devices, `${sort} ${order}: each device once`);
      if (sort === 'device') t.same(seen, order === 'asc' ? devices : [...devices].reverse());
      t.equal(pages, 36, `${sort} ${order}: ceil(250 / 7) pages`);
    }
  }

  // Value order follows jsonb: null (and missing) < strings < numbers < booleans.
  const all = await get(app, '/v1/devices?limit=1000&sort=values.temp', apiKey);
  const rank = (v: unknown): number => (v === undefined || v === null ? 0 : typeof v === 'string' ? 1 : typeof v === 'number' ? 2 : 3);
  const temps = all.body.items.map((item: { values: { temp?: unknown } }) => item.values.temp);
  for (let i = 1; i < temps.length; i++) {
    const [a, b] = [temps[i - 1], temps[i]];
    const ordered = rank(a) < rank(b) || (rank(a) === rank(b) && (rank(a) !== 2 || (a as number) <= (b as number)));
    if (!ordered) t.fail(`temp out of order at ${i}: ${String(a)} then ${String(b)}`);
  }
  const byTs = await get(app, '/v1/devices?limit=1000&sort=ts&order=desc', apiKey);
  const times = byTs.body.items.map((item: { ts: string }) => Date.parse(item.ts));
  t.ok(times.every((ts: number, i: number) => i === 0 || times[i - 1] >= ts), 'ts descending');
});

t.test('where filters compare numbers numerically and everything else as text', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  const rows: [string, EventValues][] = [
    ['a', { temp: 36.4, status: 'ok' }],
    ['b', { temp: 36.5, status: 'ok' }],
    ['c', { temp: 37, status: 'alarm' }],
    ['d', { temp: 'broken', status: 'ok' }],
    ['e', { status: 'ok' }],
    ['f', { temp: 100, on: true, code: '007' }],
  ];
  await seedEvents(deps.pool, rows.map(([device, values]) => ({ tenantId: tenant, device, ts: T0, values })));
  const list = async (where: string): Promise<string[]> => {
    const response = await get(app, `/v1/devices?where=${encodeURIComponent(where)}`, apiKey);
    t.equal(response.status, 200, where);
    return response.body.items.map((item: { device: string }) => item.device);
  };
  t.same(await list('temp>36.5'), ['c', 'f']);
  t.same(await list('temp>=36.5'), ['b', 'c', 'f']);
  t.same(await list('temp<37'), ['a', 'b']);
  t.same(await list('temp<=37,status=ok'), ['a', 'b']);
  t.same(await list('temp>9'), ['a', 'b', 'c', 'f'], 'numeric, not text, order');
  t.same(await list('temp=36.50'), ['b'], 'numeric equality');
  t.same(await list('temp=broken'), ['d']);
  t.same(await list('status!=ok'), ['c', 'f'], 'a missing key is not equal');
  t.same(await list('temp!=37'), ['a', 'b', 'd', 'e', 'f']);
  t.same(await list('on=true'), ['f']);
  t.same(await list('code=007'), ['f'], 'a string that looks like a number still matches as text');
  t.same(await list('code=7'), [], 'but not numerically');
  t.same(await list('nothing=1'), []);
  const paged = await get(app, `/v1/devices?limit=1&where=status%3Dok&sort=values.temp&order=desc`, apiKey);
  t.same(paged.body.items.map((i: { device: string }) => i.device), ['b']);
  const second = await get(app, `/v1/devices?limit=1&where=status%3Dok&sort=values.temp&order=desc&cursor=${paged.body.nextCursor}`, apiKey);
  t.same(second.body.items.map((i: { device: string }) => i.device), ['a']);
});

t.test('list parameters are validated', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { apiKey } = await newTenant(deps.pool);
  const first = await get(app, '/v1/devices?sort=ts', apiKey);
  t.same(first.body, { items: [], nextCursor: null, meta: { source: 'primary', consistency: 'eventual', lagMs: 0 } });
  const cases: [string, string][] = [
    ['limit=0', 'limit'],
    ['limit=1001', 'limit'],
    ['limit=x', 'limit'],
    ['sort=temp', 'sort'],
    ['sort=values.', 'sort'],
    ['sort=values.te%00mp', 'sort'],
    ['order=up', 'order'],
    ['where=temp>hot', 'where'],
    ['where=temp', 'where'],
    ['cursor=abc', 'cursor'],
    [`sort=ts&cursor=${Buffer.from('["device:asc","a"]').toString('base64url')}`, 'cursor'],
    ['consistency=fresh', 'consistency'],
    ['maxStalenessMs=-5', 'maxStalenessMs'],
  ];
  for (const [query, field] of cases) {
    const response = await get(app, `/v1/devices?${query}`, apiKey);
    t.equal(response.status, 400, query);
    t.equal(response.body.error.code, 'invalid_request', query);
    t.equal(response.body.error.details[0].field, field, query);
  }
});

t.test('labels: each item carries its current labels; a label filter pages through exactly the members', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  const other = await newTenant(deps.pool, 'other');
  const devices = Array.from({ length: 30 }, (_, i) => `d-${String(i).padStart(2, '0')}`);
  await seedEvents(deps.pool, [
    ...devices.map((device) => ({ tenantId: tenant, device, ts: T0, values: { n: 1 } })),
    { tenantId: other.tenant, device: 'd-00', ts: T0, values: { n: 1 } },
  ]);
  // Versions as fold_label_samples leaves them, written by SQL until the PUT route lands: every third
  // device is in team red now; d-01 was red until T0 (ended); d-02 had red removed (NULL); a value with
  // colons; and the other tenant's d-00 is red too.
  const version = (tenantId: string, device: string, label: string, from: number, to: number | null, value: string | null): Promise<unknown> =>
    deps.pool.query(
      `INSERT INTO label_versions (tenant_id, device, label, valid_from, valid_to, value, last_sample, origin)
       VALUES ($1, $2, $3, $4, coalesce($5::timestamptz, 'infinity'), $6, $4, 'a')`,
      [tenantId, device, label, new Date(from).toISOString(), to === null ? null : new Date(to).toISOString(), value],
    );
  const red = devices.filter((_, i) => i % 3 === 0);
  for (const device of red) await version(tenant, device, 'team', T0 - 1000, null, 'red');
  await version(tenant, 'd-01', 'team', T0 - 5000, T0, 'red');
  await version(tenant, 'd-01', 'team', T0, null, 'blue');
  await version(tenant, 'd-02', 'team', T0 - 5000, T0, 'red');
  await version(tenant, 'd-02', 'team', T0, null, null);
  await version(tenant, 'd-03', 'url', T0, null, 'http://x:8080/a');
  await version(other.tenant, 'd-00', 'team', T0, null, 'red');

  const all = await get(app, '/v1/devices?limit=5', apiKey);
  t.equal(all.status, 200);
  t.same(
    all.body.items.map((item: { device: string; labels: Record<string, string> }) => [item.device, item.labels]),
    [['d-00', { team: 'red' }], ['d-01', { team: 'blue' }], ['d-02', {}], ['d-03', { team: 'red', url: 'http://x:8080/a' }], ['d-04', {}]],
    'current labels on each item, removed and ended ones left out',
  );

  // Through the route: every member once, across pages, with the other parameters.
  const listed = async (key: string, query: string): Promise<string[]> => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await get(app, `/v1/devices?limit=4&${query}${cursor === null ? '' : `&cursor=${cursor}`}`, key);
      t.equal(page.status, 200, query);
      seen.push(...page.body.items.map((item: { device: string }) => item.device));
      cursor = page.body.nextCursor;
    } while (cursor !== null);
    return seen;
  };
  t.same(await listed(apiKey, 'label=team:red'), red, 'HTTP: members now, in device order');
  t.same(await listed(apiKey, 'label=team%3Ared&order=desc'), [...red].reverse(), 'HTTP: descending');
  t.same(await listed(apiKey, 'label=team:red&where=n%3D1&sort=ts'), red, 'HTTP: with a where filter, by ts');
  t.same(await listed(apiKey, `label=${encodeURIComponent('url:http://x:8080/a')}`), ['d-03'], 'HTTP: split at the first colon');
  t.same(await listed(other.apiKey, 'label=team:red'), ['d-00'], "HTTP: another tenant's members are its own");
  const refused = await get(app, '/v1/devices?label=team', apiKey);
  t.equal(refused.status, 400);
  t.equal(refused.body.error.details[0].field, 'label');

  // The same through the read itself, in every sort.
  const { readDeviceList } = await import('../src/reads/read-device-list.ts');
  const { parseDeviceSort, sortIdentity } = await import('../src/params/parse-device-sort.ts');
  const { decodeCursor } = await import('../src/params/cursor.ts');
  const { parseLabelFilter } = await import('../src/params/parse-group-params.ts');
  const options = { consistency: 'eventual' as const, afterBatchId: undefined, maxStalenessMs: 1000 };
  const list = async (tenantId: string, label: string, sortText?: string, order?: string): Promise<string[]> => {
    const sort = parseDeviceSort(sortText, order);
    const ordering = sortIdentity(sort);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const after: string[] | undefined = cursor === null ? undefined : decodeCursor(cursor, ordering, sort.kind === 'device' ? ['device'] : ['timestamp', 'device']);
      const page = await readDeviceList(deps.router, { tenantId, sort, where: [], labelFilter: parseLabelFilter(label), after, limit: 4, ordering }, options);
      seen.push(...page.items.map((item) => item.device));
      cursor = page.nextCursor;
    } while (cursor !== null);
    return seen;
  };
  t.same(await list(tenant, 'team:red'), red, 'members now, in device order, each once');
  t.same(await list(tenant, 'team:red', 'device', 'desc'), [...red].reverse(), 'descending');
  t.same((await list(tenant, 'team:red', 'ts')).sort(), red, 'by ts');
  t.same(await list(tenant, 'team:blue'), ['d-01']);
  t.same(await list(tenant, 'url:http://x:8080/a'), ['d-03'], 'split at the first colon');
  t.same(await list(tenant, 'team:green'), []);
  t.same(await list(other.tenant, 'team:red'), ['d-00'], "another tenant's members are its own");
});

t.test('label filters are validated', async (t) => {
  const { parseLabelFilter } = await import('../src/params/parse-group-params.ts');
  for (const bad of ['team', ':red', 'team:', `${'x'.repeat(129)}:red`, `team:${'x'.repeat(129)}`]) {
    const error = (() => {
      try {
        parseLabelFilter(bad);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    t.match(error, { status: 400, details: [{ field: 'label' }] }, bad);
  }
  t.same(parseLabelFilter('a:b:c'), { name: 'a', value: 'b:c' });
  t.equal(parseLabelFilter(undefined), undefined);
});
