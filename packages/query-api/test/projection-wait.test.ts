import { randomUUID } from 'node:crypto';
import t from 'tap';
import { encodeToken, EVENT_LIMITS } from '@strata/core';
import { projectBatch, stageEvents, toBatchEvent, type SeedEvent, type Teardownable } from '@strata/testkit';
import { Counter, Registry } from 'prom-client';
import { ProjectionWaiter } from '../src/read-routing/projection-waiter.ts';
import { buildTestApp, get, newTenant, type TestApp } from './helpers.ts';
import { foldLabelSamples } from './support/label-samples.ts';

/*
 * Decision 0104: a strong read (or a read with a token, on the primary) reflects every event
 * acknowledged before it began. Latest state merges staged rows; history, series, stats, lists and
 * group reads cannot, so they wait until the batches staged for them are projected. Here nothing
 * projects but the test: a read that did not wait would answer without the staged events, and one
 * that waited too long, or for the wrong tenant, would not answer when the test says.
 */
const MINUTE = 60_000;

async function waits(deps: TestApp['deps']): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const { labels, value } of (await deps.metrics.projectionWaits.get()).values) counts[String(labels.result)] = value;
  return counts;
}

/** Resolves once `deps` has `n` reads waiting (a read reaches its wait after its first statement). */
async function waitingReads(deps: TestApp['deps'], n: number): Promise<void> {
  await waiterHolds(deps.projection, n);
}

/**
 * Resolves once `waiter` holds `n` reads that found batches to wait for. A fixed sleep instead let a
 * slow search (a loaded CI machine) run after the test had marked the batch applied: the read then
 * found nothing to wait for and was not counted as applied.
 */
async function waiterHolds(waiter: { readonly waiting: number }, n: number): Promise<void> {
  for (let i = 0; i < 400 && waiter.waiting < n; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (waiter.waiting < n) throw new Error(`expected ${n} waiting reads, found ${waiter.waiting}`);
}

t.test('strong history, series, stats and list reads wait for staged batches, then include them', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  const minute = Math.floor(Date.now() / MINUTE) * MINUTE - 5 * MINUTE;
  const from = new Date(minute - MINUTE).toISOString();
  const to = new Date(minute + 2 * MINUTE).toISOString();
  const old: SeedEvent = { tenantId: tenant, device: 'd', ts: minute, key: 'i:old', values: { v: 1 } };
  await projectBatch(deps.pool, randomUUID(), [toBatchEvent(old)]);
  const staged: SeedEvent[] = [
    { tenantId: tenant, device: 'd', ts: minute + 1000, key: 'i:s1', values: { v: 10 } },
    { tenantId: tenant, device: 'fresh', ts: minute + 2000, key: 'i:s2', values: { v: 100 } },
  ];
  const batch = await stageEvents(deps.pool, staged);

  // Eventual reads do not wait: they answer now, without the staged events.
  const eventual = await get(app, `/v1/devices/d/events?from=${from}&to=${to}`, apiKey);
  t.same(eventual.body.items.map((item: { id: string }) => item.id), ['old'], 'eventual: only what is projected');

  const strong = { 'x-consistency': 'strong' };
  const reads = Promise.all([
    get(app, `/v1/devices/d/events?from=${from}&to=${to}`, apiKey, strong),
    get(app, `/v1/devices/d/series?value=v&interval=1m&agg=count,sum&from=${from}&to=${to}`, apiKey, strong),
    get(app, `/v1/stats?interval=1m&from=${from}&to=${to}`, apiKey, strong),
    get(app, '/v1/devices', apiKey, strong),
  ]);
  await waitingReads(deps, 4);
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(deps.projection.waiting, 4, 'all four still wait while the batch is staged');

  await projectBatch(deps.pool, batch, staged.map(toBatchEvent));
  const [events, series, stats, list] = await reads;
  t.same(events.body.items.map((item: { id: string }) => item.id), ['s1', 'old'], 'history holds the staged event');
  t.equal(events.body.meta.consistency, 'strong');
  t.same(series.body.buckets, [{ ts: new Date(minute).toISOString(), count: 2, sum: 11 }], 'the series counts it');
  t.same(stats.body.buckets.map((bucket: { counts: unknown }) => bucket.counts), [{ reading: 3 }], 'stats count it');
  t.same(list.body.items.map((item: { device: string }) => item.device), ['d', 'fresh'], 'the list holds the device only staging had');
  t.same(await waits(deps), { applied: 4 });

  // Nothing staged any more: a strong read answers at once and waits for nothing.
  t.equal((await get(app, `/v1/devices/d/events?from=${from}&to=${to}`, apiKey, strong)).status, 200);
  t.same(await waits(deps), { applied: 4 }, 'a read with nothing to wait for is not counted');
});

t.test("strong group series and totals wait for the tenant's staged batches", async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  const minute = Math.floor(Date.now() / MINUTE) * MINUTE - 5 * MINUTE;
  await foldLabelSamples(deps.pool, tenant, [{ device: 'd', label: 'team', ts: minute - MINUTE, value: 'red' }]);
  const staged: SeedEvent[] = [{ tenantId: tenant, device: 'd', ts: minute + 1000, key: 'i:1', values: { v: 7 } }];
  const batch = await stageEvents(deps.pool, staged);
  const range = `from=${new Date(minute).toISOString()}&to=${new Date(minute + MINUTE).toISOString()}`;
  const strong = { 'x-consistency': 'strong' };
  const reads = Promise.all([
    get(app, `/v1/groups/team/red/series?value=v&agg=sum&interval=1m&${range}`, apiKey, strong),
    get(app, `/v1/groups/team/red/total?value=v&at=${new Date(minute + 30_000).toISOString()}`, apiKey, strong),
  ]);
  await waitingReads(deps, 2);
  await projectBatch(deps.pool, batch, staged.map(toBatchEvent));
  const [series, total] = await reads;
  t.same(series.body.buckets, [{ ts: new Date(minute).toISOString(), sum: 7 }], 'the group series holds the staged event');
  t.equal(total.body.total, 7, 'so does the total');
  t.same(await waits(deps), { applied: 2 });
});

t.test('a token read on the primary waits for its batch; a forged or foreign token does not', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const { tenant, apiKey } = await newTenant(deps.pool);
  const other = await newTenant(deps.pool, 'neighbour');
  const ts = Date.now() - MINUTE;
  const mine: SeedEvent[] = [{ tenantId: tenant, device: 'd', ts, key: 'i:1', values: { v: 1 } }];
  const batch = await stageEvents(deps.pool, mine);
  const foreign = await stageEvents(deps.pool, [{ tenantId: other.tenant, device: 'd', ts, key: 'i:x', values: { v: 9 } }]);

  const path = `/v1/devices/d/events?after=${encodeToken(batch)}`;
  const read = get(app, path, apiKey);
  await waitingReads(deps, 1);
  await projectBatch(deps.pool, batch, mine.map(toBatchEvent));
  const answer = await read;
  t.same(answer.body.items.map((item: { id: string }) => item.id), ['1'], 'the token read holds its write');
  t.equal(answer.body.meta.consistency, 'eventual');

  const forged = await get(app, `/v1/devices/d/events?after=${encodeToken(randomUUID())}`, apiKey);
  t.equal(forged.status, 200, 'a token no one staged is not waited for');
  const theirs = await get(app, `/v1/devices/d/events?after=${encodeToken(foreign)}`, apiKey);
  t.equal(theirs.status, 200, "another tenant's staged batch is not this read's to wait for");
  t.same(theirs.body.items.map((item: { id: string }) => item.id), ['1'], 'and shows nothing of it');
  t.same(await waits(deps), { applied: 1 });
});

t.test('one batch holding two tenants and the worst device names: each strong read waits for it and sees only its own', async (t) => {
  const { app, deps } = await buildTestApp(t);
  const mine = await newTenant(deps.pool);
  const theirs = await newTenant(deps.pool, 'neighbour');
  const ts = Date.now() - MINUTE;
  // The worst a device name may be (DEVICE_RULE: [A-Za-z0-9._:-]): an Object.prototype key,
  // punctuation only, the longest name. ('..' is refused before any read: a URL path normalizes it.)
  const names = ['constructor', '.:.', ':-.', 'd'.repeat(EVENT_LIMITS.deviceMaxLength)];
  // Group commit puts concurrent requests of different tenants into one batch.
  const shared: SeedEvent[] = [
    ...names.map((device, i) => ({ tenantId: mine.tenant, device, ts, key: `i:m${i}`, values: { v: i } })),
    { tenantId: theirs.tenant, device: names[0] as string, ts, key: 'i:t', values: { v: 100 } },
  ];
  const batch = await stageEvents(deps.pool, shared);
  const strong = { 'x-consistency': 'strong' };
  const reads = Promise.all([
    ...names.map((device) => get(app, `/v1/devices/${encodeURIComponent(device)}/events`, mine.apiKey, strong)),
    get(app, `/v1/devices/${encodeURIComponent(names[0] as string)}/events?after=${encodeToken(batch)}`, theirs.apiKey),
    get(app, '/v1/devices', theirs.apiKey, strong),
  ]);
  await waitingReads(deps, names.length + 2);
  await projectBatch(deps.pool, batch, shared.map(toBatchEvent));
  const answers = await reads;
  names.forEach((device, i) => t.same(answers[i]?.body.items.map((item: { id: string }) => item.id), [`m${i}`], `${JSON.stringify(device)}: its own event`));
  t.same(answers[names.length]?.body.items.map((item: { id: string }) => item.id), ['t'], "the neighbour's token read: its own event only");
  t.same(answers[names.length + 1]?.body.items.map((item: { device: string }) => item.device), ['constructor'], "the neighbour's list: its own device only");
});

t.test("a neighbour's staged batches never hold a tenant's strong reads", async (t) => {
  const { app, deps } = await buildTestApp(t, { strongReadWaitMs: 60_000 });
  const { apiKey } = await newTenant(deps.pool);
  const other = await newTenant(deps.pool, 'neighbour');
  await stageEvents(deps.pool, [{ tenantId: other.tenant, device: 'd', ts: Date.now(), key: 'i:1', values: { v: 1 } }]);
  const strong = { 'x-consistency': 'strong' };
  for (const path of ['/v1/devices/d/events', '/v1/devices', `/v1/stats?interval=1h&from=${new Date(Date.now() - 3_600_000).toISOString()}`]) {
    t.equal((await get(app, path, apiKey, strong)).status, 200, `${path} answered at once`);
  }
  t.same(await waits(deps), {}, 'nothing waited');
});

t.test('a batch not projected in STRONG_READ_WAIT_MS is a 503 that says so; 0 refuses at once', async (t) => {
  const { app, deps } = await buildTestApp(t, { strongReadWaitMs: 300 });
  const { tenant, apiKey } = await newTenant(deps.pool);
  await stageEvents(deps.pool, [{ tenantId: tenant, device: 'd', ts: Date.now(), key: 'i:1', values: { v: 1 } }]);
  const started = Date.now();
  const answer = await get(app, '/v1/devices/d/events', apiKey, { 'x-consistency': 'strong' });
  t.equal(answer.status, 503);
  t.equal(answer.body.error.code, 'projection_pending');
  t.match(answer.body.error.message, /not projected yet: 1 batch\(es\) this read must reflect were not projected within STRONG_READ_WAIT_MS \(300 ms\).*consistency=eventual/);
  t.equal(answer.headers['retry-after'], '1');
  t.ok(Date.now() - started >= 300, 'it waited the bound first');
  t.same(await waits(deps), { timeout: 1 });
  t.equal((await get(app, '/v1/devices/d', apiKey, { 'x-consistency': 'strong' })).body.values.v, 1, 'latest state merges staging: never waits');
  t.equal((await get(app, '/v1/devices/d/events', apiKey)).status, 200, 'eventual reads are not held');

  const off = await buildTestApp(t, { strongReadWaitMs: 0 });
  const offTenant = await newTenant(off.deps.pool);
  await stageEvents(off.deps.pool, [{ tenantId: offTenant.tenant, device: 'd', ts: Date.now(), key: 'i:1', values: { v: 1 } }]);
  const refused = await get(off.app, '/v1/devices/d/events', offTenant.apiKey, { 'x-consistency': 'strong' });
  t.equal(refused.status, 503);
  t.match(refused.body.error.message, /STRONG_READ_WAIT_MS is 0/);
});

/** The primary, counting statements by what they do (the waiter's own), able to fail the probe on demand. */
function countingDb(pool: TestApp['deps']['pool']) {
  const counts = { search: 0, probe: 0, token: 0 };
  const names: (string | undefined)[] = [];
  let failProbes = false;
  let searchDelayMs = 0;
  const db = {
    query: async (config: { name?: string; text: string; values: unknown[] }) => {
      if (config.text.includes('unnest($1::uuid[])')) {
        counts.probe++;
        if (failProbes) throw new Error('the primary is away');
      } else if (config.text.includes('LIMIT $4')) {
        counts.search++;
        names.push(config.name);
        if (searchDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, searchDelayMs));
      } else counts.token++;
      return pool.query(config as never);
    },
  };
  return {
    db: db as never,
    counts,
    names,
    failProbes: (on: boolean) => (failProbes = on),
    delaySearches: (ms: number) => (searchDelayMs = ms),
  };
}

function waiterOn(t: Teardownable, deps: TestApp['deps'], options: Partial<ConstructorParameters<typeof ProjectionWaiter>[1]> = {}) {
  const counter = new Counter({ name: 'waits', help: 'waits', labelNames: ['result'], registers: [new Registry()] });
  const db = countingDb(deps.pool);
  const waiter = new ProjectionWaiter(
    db.db,
    { maxWaitMs: 10_000, pollMs: 5, readsPerTenant: 64, batchesPerTenant: 1000, stagedRowsPerSearch: 200_000, ...options },
    counter,
    deps.logger,
  );
  t.teardown(() => waiter.close());
  const results = async (): Promise<Record<string, number>> => {
    const values: Record<string, number> = {};
    for (const { labels, value } of (await counter.get()).values) values[String(labels.result)] = value;
    return values;
  };
  return { waiter, ...db, results };
}

const markApplied = (deps: TestApp['deps'], ...batches: string[]) =>
  deps.pool.query('INSERT INTO applied_batches (batch_id, event_count, inserted) SELECT unnest($1::uuid[]), 1, 1', [batches]);

t.test("a tenant's concurrent reads share one search; each waits only for its own batches", async (t) => {
  const { deps } = await buildTestApp(t);
  const { waiter, counts, names, results } = waiterOn(t, deps);
  const { tenant } = await newTenant(deps.pool);
  const a = await stageEvents(deps.pool, [{ tenantId: tenant, device: 'a', ts: Date.now(), values: { v: 1 } }]);
  const b = await stageEvents(deps.pool, [{ tenantId: tenant, device: 'b', ts: Date.now(), values: { v: 2 } }]);
  const first = waiter.settle(tenant, { kind: 'device', device: 'a' });
  const reads = [
    waiter.settle(tenant, { kind: 'device', device: 'b' }),
    waiter.settle(tenant, { kind: 'tenant' }),
    waiter.settle(tenant, { kind: 'device', device: 'nothing staged' }),
  ];
  await reads[2];
  t.equal(counts.search, 2, 'the first read searched alone; the three that came meanwhile shared the next search');
  // A named statement is planned generically after five runs on a connection: a plan made for a
  // tenant with a large backlog (a parallel scan of staging) then served every tenant (hostile review).
  t.same(names, [undefined, undefined], 'each search is planned for its own tenant (an unnamed statement)');
  await new Promise((resolve) => setTimeout(resolve, 30));
  t.equal(waiter.waiting, 3, 'a device with nothing staged waited for nothing; the others wait');
  await markApplied(deps, b);
  await reads[0];
  t.equal(waiter.waiting, 2, "b's read is done; a's and the tenant's wait on");
  const probes = counts.probe;
  await markApplied(deps, a);
  await Promise.all([first, reads[1]]);
  t.ok(counts.probe > probes, 'they were probed together');
  await new Promise((resolve) => setTimeout(resolve, 30));
  const idle = counts.probe;
  await new Promise((resolve) => setTimeout(resolve, 30));
  t.equal(counts.probe, idle, 'no probe while no read waits');
  t.same(await results(), { applied: 3 });
});

t.test('bounds are per tenant, checked before any statement; a neighbour at its bounds changes nothing', async (t) => {
  const { deps } = await buildTestApp(t);
  const { waiter, counts, results } = waiterOn(t, deps, { readsPerTenant: 2, batchesPerTenant: 2, stagedRowsPerSearch: 3 });
  const busy = (await newTenant(deps.pool, 'busy')).tenant;
  const calm = (await newTenant(deps.pool, 'calm')).tenant;
  const staged = await stageEvents(deps.pool, [{ tenantId: busy, device: 'd', ts: Date.now(), values: { v: 1 } }]);
  const held = [waiter.settle(busy, { kind: 'device', device: 'd' }), waiter.settle(busy, { kind: 'device', device: 'd' })];
  const searches = counts.search;
  await t.rejects(waiter.settle(busy, { kind: 'tenant' }), { code: 'projection_pending', message: /2 strong reads of this tenant are already waiting/ });
  t.equal(counts.search, searches, 'the refused read ran no statement');
  const calmBatch = await stageEvents(deps.pool, [{ tenantId: calm, device: 'd', ts: Date.now(), values: { v: 1 } }]);
  const calmRead = waiter.settle(calm, { kind: 'tenant' });
  await waiterHolds(waiter, 3);
  await markApplied(deps, calmBatch);
  await calmRead;
  t.pass("the neighbour's read waited and passed beside a tenant at its bound");
  await markApplied(deps, staged);
  await Promise.all(held);

  // More batches than the tenant may wait for, more staged rows than a search reads.
  const other = (await newTenant(deps.pool, 'far behind')).tenant;
  for (let i = 0; i < 3; i++) await stageEvents(deps.pool, [{ tenantId: other, device: `d${i}`, ts: Date.now(), values: { v: i } }]);
  await t.rejects(waiter.settle(other, { kind: 'tenant' }), { message: /wait for more than 2 batches/ });
  await stageEvents(deps.pool, [{ tenantId: other, device: 'd0', ts: Date.now() + 1, values: { v: 9 } }]);
  await t.rejects(waiter.settle(other, { kind: 'tenant' }), { message: /more than 3 events of this read's scope are staged/ });
  t.same(await results(), { applied: 3, busy: 1, backlog: 2 });
});

t.test("a shared search that reads too many rows refuses only the scopes that are behind; the tenant's next tenant-wide read is refused without one", async (t) => {
  const { deps } = await buildTestApp(t);
  const { waiter, counts, results } = waiterOn(t, deps, { stagedRowsPerSearch: 3 });
  const { tenant } = await newTenant(deps.pool);
  for (let i = 0; i < 4; i++) await stageEvents(deps.pool, [{ tenantId: tenant, device: 'hot', ts: Date.now() + i, values: { v: i } }]);
  const quietBatch = await stageEvents(deps.pool, [{ tenantId: tenant, device: 'quiet', ts: Date.now(), values: { v: 1 } }]);
  // The first read searches alone; the three that come meanwhile share the next search, which reads
  // 5 rows (the whole tenant) against a bound of 3: each is then searched again on its own.
  const first = waiter.settle(tenant, { kind: 'device', device: 'calm' });
  const [wide, quiet, hot] = [
    waiter.settle(tenant, { kind: 'tenant' }),
    waiter.settle(tenant, { kind: 'device', device: 'quiet' }),
    waiter.settle(tenant, { kind: 'device', device: 'hot' }),
  ];
  await first;
  await t.rejects(wide, { code: 'projection_pending', message: /more than 3 events of this read's scope are staged/ }, 'the tenant is behind');
  await t.rejects(hot, { message: /more than 3 events/ }, 'so is the hot device');
  await new Promise((resolve) => setTimeout(resolve, 30));
  t.equal(waiter.waiting, 1, 'the quiet device waits for its own one batch, never refused for its neighbours');
  await markApplied(deps, quietBatch);
  await quiet;
  t.equal(counts.search, 5, 'one alone, one shared, then each of the three alone');
  await t.rejects(waiter.settle(tenant, { kind: 'tenant' }), { message: /more than 3 events/ });
  t.equal(counts.search, 5, 'a tenant-wide read right after a tenant-wide search found the tenant behind runs none');
  t.same(await results(), { backlog: 3, applied: 1 });
});

t.test('STRONG_READ_WAIT_MS bounds the search too; failing probes come more and more slowly', async (t) => {
  const { deps } = await buildTestApp(t);
  const { waiter, delaySearches, results } = waiterOn(t, deps, { maxWaitMs: 200 });
  const { tenant } = await newTenant(deps.pool);
  await stageEvents(deps.pool, [{ tenantId: tenant, device: 'd', ts: Date.now(), values: { v: 1 } }]);
  delaySearches(1000);
  let started = Date.now();
  await t.rejects(waiter.settle(tenant, { kind: 'device', device: 'd' }), { message: /finding what to wait for took longer than STRONG_READ_WAIT_MS \(200 ms\)/ });
  t.ok(Date.now() - started < 800, `refused at its deadline (${Date.now() - started} ms), not when the search ended`);
  delaySearches(0);
  await new Promise((resolve) => setTimeout(resolve, 900));

  const slow = waiterOn(t, deps, { maxWaitMs: 600 });
  slow.failProbes(true);
  started = Date.now();
  await t.rejects(slow.waiter.settle(tenant, { kind: 'device', device: 'd' }), { message: /were not projected within STRONG_READ_WAIT_MS \(600 ms\)/ });
  t.ok(slow.counts.probe >= 3 && slow.counts.probe <= 10, `${slow.counts.probe} probes in ${Date.now() - started} ms: spaced more after each failure (every 5 ms would be ~120)`);
  t.same(await results(), { timeout: 1 });
});

t.test('a probe that fails keeps reads waiting until their own deadline; a batch refused after staging settles', async (t) => {
  const { deps } = await buildTestApp(t);
  const { waiter, failProbes, counts, results } = waiterOn(t, deps, { maxWaitMs: 400 });
  const { tenant } = await newTenant(deps.pool);
  const lost = await stageEvents(deps.pool, [{ tenantId: tenant, device: 'd', ts: Date.now(), values: { v: 1 } }]);
  failProbes(true);
  const started = Date.now();
  const read = waiter.settle(tenant, { kind: 'device', device: 'd' });
  await t.rejects(read, { code: 'projection_pending', message: /were not projected within STRONG_READ_WAIT_MS \(400 ms\)/ });
  const waited = Date.now() - started;
  t.ok(waited >= 390 && waited < 2000, `refused at its deadline (${waited} ms), not at the first failed probe`);
  t.ok(counts.probe >= 3, 'the probe was tried again and again');

  // command-api removes a batch's staged rows when its queue write fails: it was never acknowledged.
  failProbes(false);
  const again = waiter.settle(tenant, { kind: 'device', device: 'd' });
  await waiterHolds(waiter, 1);
  await deps.pool.query('DELETE FROM staging_events WHERE batch_id = $1', [lost]);
  await again;
  t.same(await results(), { timeout: 1, applied: 1 });

  const late = (async () => {
    await stageEvents(deps.pool, [{ tenantId: tenant, device: 'd', ts: Date.now(), values: { v: 2 } }]);
    return waiter.settle(tenant, { kind: 'device', device: 'd' });
  })();
  await new Promise((resolve) => setTimeout(resolve, 100));
  waiter.close();
  await t.rejects(late, { code: 'projection_pending', message: /shutting down/ }, 'shutdown refuses a waiting read');
  await t.rejects(waiter.settle(tenant, { kind: 'tenant' }), { message: /shutting down/ });
});
