import t from 'tap';
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { INGEST_JOB, INGEST_QUEUE, issueApiKey, type BatchEvent, type IngestJobData } from '@strata/core';
import { createTenant, createTestEnvironment, freePort, seedEvents, stageEvents, startInProcessProjector } from '@strata/testkit';
import { buildApp } from '../src/app.ts';
import { closeOpsDeps, createOpsDeps } from '../src/deps.ts';
import { STATUS_PAGE_FILES } from '../src/routes/status-page-route.ts';
import type { StatusReport } from '../src/status/status-report.ts';

/*
 * The status page's JSON (numbers from a state this test made), its static files and headers, and
 * its dead-letter actions: who may list, retry and drop (key scope, tenant), and hostile input.
 */
// Nothing listens on this port: the page must say query-api is unreachable, not invent breaker states.
const root = t;
const { config, logger } = await createTestEnvironment(t, { queryApiPort: await freePort(), authFailuresPerMinute: 0 });
// Readings are reused for a second: each status() moves this clock past that, to see every change at once.
let skewMs = 0;
const deps = createOpsDeps(config, { logger, clock: { now: () => Date.now() + skewMs } });
const app = buildApp(deps);
await app.ready();
t.teardown(async () => {
  await app.close();
  await closeOpsDeps(deps);
});
const pool = deps.pool;
const alice = await createTenant(pool, 'alice');
const bob = await createTenant(pool, 'bob');
const key = async (tenant: string, scope: 'read' | 'write' | 'all', device?: string) =>
  (await issueApiKey(pool, tenant, { scope, device: device ?? null }))?.apiKey as string;
const status = async (): Promise<StatusReport> => {
  skewMs += 1001;
  return (await app.inject({ url: '/status.json' })).json();
};
const bearer = (apiKey: string) => ({ authorization: `Bearer ${apiKey}` });
const MINUTE = 60_000;
const base = Math.floor(Date.now() / MINUTE) * MINUTE - 5 * MINUTE;

t.test('the page, its script and stylesheet are served with a policy that runs no inline script and allows no framing', async (t) => {
  const page = await app.inject({ url: '/' });
  t.equal(page.statusCode, 200);
  t.match(page.headers['content-type'], /^text\/html/);
  t.match(page.headers['content-security-policy'], /script-src 'self'/);
  t.match(page.headers['content-security-policy'], /frame-ancestors 'none'/);
  t.equal(page.headers['x-content-type-options'], 'nosniff');
  t.notMatch(page.body, /<script>|onclick=|style=/i, 'no inline script, handler or style the policy would block');
  let script = '';
  for (const { url, type } of STATUS_PAGE_FILES) {
    const file = await app.inject({ url });
    t.equal(file.statusCode, 200, url);
    t.equal(file.headers['content-type'], type, url);
    t.match(file.headers['content-security-policy'], /default-src 'none'/, url);
    if (url.endsWith('.js')) script += file.body;
  }
  for (const url of ['/status-page/../deps.ts', '/status-page/..%2fdeps.ts', '/status-page/index.html.bak', '/status-page/']) {
    t.equal((await app.inject({ url })).statusCode, 404, `${url}: only the listed files are served`);
  }
  t.notMatch(script, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/, 'server text never becomes HTML or code');
  t.notMatch(script, /localStorage|sessionStorage|document\.cookie/, 'the key is kept in memory only');
});

t.test('status.json shows the numbers of the state this test made, with no tenant data', async (t) => {
  await stageEvents(pool, [0, 1, 2].map((i) => ({ tenantId: alice.tenant, device: 'staged', ts: base + i, values: { v: i } })));
  await seedEvents(pool, [0, 1, 2, 3, 4].map((i) => ({ tenantId: alice.tenant, device: 'seen', ts: base + i * 1000, values: { v: i } })), { refresh: false });
  const response = await app.inject({ url: '/status.json' });
  t.equal(response.headers['cache-control'], 'no-store');
  const report = await status();
  t.match(report.ingest, { ok: true, events60s: 5, inserted60s: 5, batches60s: 1, eventsPerSecond60s: 5 / 60 });
  t.ok(report.ingest.ok && report.ingest.lastAppliedAgeMs !== null && report.ingest.lastAppliedAgeMs < 30_000);
  t.match(report.staging, { ok: true, events: 3, batches: 1 });
  t.ok(report.staging.ok && report.staging.oldestAgeMs !== null);
  t.match(report.queue, { ok: true, waiting: 0, active: 0, failed: 0 });
  t.match(report.deadLetters, { ok: true, events: 0, tenants: 0 });
  t.match(report.aggregation, { ok: true, notes: 1, tenants: 1, oldestMinute: new Date(base).toISOString().replace('.000', '') });
  t.match(report.partitions, { ok: true, daysAhead: 7, missingAhead: [], pastRetention: [], retentionDays: config.retentionDays });
  t.ok(report.partitions.ok && (report.partitions.defaultRowsEstimate ?? 0) === 0, 'DEFAULT empty (or not analyzed yet)');
  t.ok(report.heartbeat.ok && typeof report.heartbeat.ageMs === 'number');
  t.match(report.routing, { reachable: false, configuredReplicas: 0, error: 'query-api not reachable' });
  t.notMatch(JSON.stringify(report), new RegExp(`${alice.tenant}|staged|seen`), 'no tenant id or device name');

  const reused = (await app.inject({ url: '/status.json' })).json();
  t.equal(reused.checkedAt, report.checkedAt, 'a poll within a second of a reading gets that reading');

  const gone = `events_${new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10).replaceAll('-', '')}`;
  await pool.query(`DROP TABLE ${gone}`);
  const after = await status();
  t.match(after.partitions, { ok: true, daysAhead: 2, missingAhead: [new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10)] });
});

// Devices are names ([A-Za-z0-9._:-]); a value is free text, and is shown with the dead letter.
const hostile = '<img src=x onerror=alert(1)>';
let aliceFirst = '';
let aliceSecond = '';
let bobs = '';
let queue: Queue<IngestJobData>;

// Dead letters the way `ops dlq` tests make them: batches with events PostgreSQL refuses, through a real projector.
t.test('dead letters are made through the projector', async (t) => {
  await startInProcessProjector(root, config);
  queue = new Queue<IngestJobData>(INGEST_QUEUE, { connection: { url: config.redisUrl }, prefix: config.redisPrefix });
  root.teardown(() => queue.close());
  const deadLetter = async (tenant: string, key: string): Promise<string> => {
    const batchId = randomUUID();
    const event: BatchEvent = { tenantId: tenant, device: 'dl', key, ts: base, type: 'reading', values: { s: `${hostile}\u0000` } };
    await queue.add(INGEST_JOB, { batchId, acceptedAt: Date.now(), events: [event] }, { jobId: batchId });
    for (let i = 0; i < 400 && !(await pool.query('SELECT 1 FROM applied_batches WHERE batch_id = $1', [batchId])).rowCount; i++) await new Promise((r) => setTimeout(r, 50));
    const row = await pool.query<{ id: string }>('SELECT id::text FROM dead_letters WHERE tenant_id = $1 AND event LIKE $2', [tenant, `%${key}%`]);
    return row.rows[0]?.id as string;
  };
  aliceFirst = await deadLetter(alice.tenant, 'i:a1');
  aliceSecond = await deadLetter(alice.tenant, 'i:a2');
  bobs = await deadLetter(bob.tenant, 'i:b1');
  t.ok(aliceFirst && aliceSecond && bobs, 'three dead letters made');
});

t.test('status.json counts dead letters of all tenants, never lists them', async (t) => {
  const report = await status();
  t.match(report.deadLetters, { ok: true, events: 3, tenants: 2 });
  t.notMatch(JSON.stringify(report), /onerror|i:a1|i:b1/);
});

t.test('listing needs a read or all key of the tenant and shows only its own', async (t) => {
  t.equal((await app.inject({ url: '/dead-letters' })).statusCode, 401, 'no key');
  t.equal((await app.inject({ url: '/dead-letters', headers: bearer('sk_nope') })).statusCode, 401, 'not a key');
  t.equal((await app.inject({ url: '/dead-letters', headers: bearer(await key(alice.tenant, 'write')) })).statusCode, 403, 'write key');
  t.equal((await app.inject({ url: '/dead-letters', headers: bearer(await key(alice.tenant, 'all', 'dl')) })).statusCode, 403, 'device-bound key');
  const listed = await app.inject({ url: '/dead-letters', headers: bearer(await key(alice.tenant, 'read')) });
  t.equal(listed.statusCode, 200);
  t.equal(listed.headers['cache-control'], 'no-store');
  const body = listed.json();
  t.equal(body.total, 2);
  t.same(body.deadLetters.map((l: { id: string }) => l.id), [aliceFirst, aliceSecond]);
  t.match(body.deadLetters[0], { device: 'dl', sqlstate: /^22/, failures: 1, eventTruncated: false, event: /i:a1/ });
  t.ok(body.deadLetters[0].event.includes(hostile), 'hostile text is returned as data, for the page to show as text');
  t.notOk('tenant' in body.deadLetters[0]);
  const paged = (await app.inject({ url: '/dead-letters?limit=1', headers: bearer(alice.apiKey) })).json();
  t.same([paged.deadLetters.length, paged.next], [1, aliceFirst]);
  const rest = (await app.inject({ url: `/dead-letters?limit=1&after=${paged.next}`, headers: bearer(alice.apiKey) })).json();
  t.same(rest.deadLetters.map((l: { id: string }) => l.id), [aliceSecond]);
  const bobsView = (await app.inject({ url: '/dead-letters', headers: bearer(bob.apiKey) })).json();
  t.same(bobsView.deadLetters.map((l: { id: string }) => l.id), [bobs]);
});

t.test('retry and drop: no key 401, read key 403, another tenant’s ids untouched, an all key works', async (t) => {
  const read = await key(alice.tenant, 'read');
  for (const action of ['retry', 'drop']) {
    const url = `/dead-letters/${action}`;
    t.equal((await app.inject({ method: 'POST', url, payload: { ids: [aliceFirst] } })).statusCode, 401, `${action}: no key`);
    const forbidden = await app.inject({ method: 'POST', url, payload: { ids: [aliceFirst] }, headers: bearer(read) });
    t.equal(forbidden.statusCode, 403, `${action}: read key`);
    t.equal(forbidden.json().error.message, 'this request needs a key with scope all');
    t.equal((await app.inject({ method: 'POST', url, payload: { ids: [aliceFirst] }, headers: bearer(await key(alice.tenant, 'write')) })).statusCode, 403, `${action}: write key`);
    const across = await app.inject({ method: 'POST', url, payload: { ids: [bobs] }, headers: bearer(alice.apiKey) });
    t.equal(across.statusCode, 200);
    t.match(across.json(), { notFound: 1 }, `${action}: bob's id is not alice's to touch`);
  }
  t.equal((await pool.query('SELECT failures FROM dead_letters WHERE id = $1', [bobs])).rows[0]?.failures, 1, 'bob’s dead letter was neither retried nor dropped');

  // Still refused: kept with its failure counted.
  const again = await app.inject({ method: 'POST', url: '/dead-letters/retry', payload: { ids: [aliceSecond] }, headers: bearer(alice.apiKey) });
  t.same(again.json(), { retried: 1, projected: 0, refused: 1, pending: 0, notFound: 0 });
  // Its cause repaired (by hand here): the retry projects it and it goes.
  const repaired: BatchEvent = { tenantId: alice.tenant, device: 'dl', key: 'i:a1', ts: base, type: 'reading', values: { s: 'repaired' } };
  await pool.query('UPDATE dead_letters SET event = $2 WHERE id = $1', [aliceFirst, JSON.stringify(repaired)]);
  const retried = await app.inject({ method: 'POST', url: '/dead-letters/retry', payload: { ids: [aliceFirst, aliceFirst] }, headers: bearer(alice.apiKey) });
  t.same(retried.json(), { retried: 1, projected: 1, refused: 0, pending: 0, notFound: 0 }, 'a repeated id counts once');
  const stored = await pool.query(`SELECT "values" FROM tenant_events WHERE tenant_id = $1 AND event_key = 'i:a1'`, [alice.tenant]);
  t.same(stored.rows, [{ values: { s: 'repaired' } }], 'projected into history');

  const dropped = await app.inject({ method: 'POST', url: '/dead-letters/drop', payload: { ids: [aliceSecond, '999999'] }, headers: bearer(alice.apiKey) });
  t.same(dropped.json(), { dropped: 1, notFound: 1 });
  t.match((await status()).deadLetters, { ok: true, events: 1, tenants: 1 }, 'only bob’s is left');
});

t.test('hostile input is a 400 naming the field, and changes nothing', async (t) => {
  const before = (await pool.query('SELECT count(*)::int AS n, sum(failures)::int AS f FROM dead_letters')).rows[0];
  const post = (payload: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/dead-letters/drop', payload: payload as string, headers: { ...bearer(bob.apiKey), 'content-type': 'application/json', ...headers } });
  const cases: [string, unknown, string][] = [
    ['no ids', {}, 'body.ids'],
    ['ids not a list', { ids: bobs }, 'body.ids'],
    ['empty list', { ids: [] }, 'body.ids'],
    ['zero', { ids: ['0'] }, 'body.ids.0'],
    ['negative', { ids: ['-1'] }, 'body.ids.0'],
    ['SQL', { ids: [`${bobs} OR 1=1`] }, 'body.ids.0'],
    ['too long for bigint', { ids: ['9'.repeat(19)] }, 'body.ids.0'],
    ['too many', { ids: Array.from({ length: 101 }, (_, i) => String(i + 1)) }, 'body.ids'],
    ['an extra field', { ids: [bobs], all: true }, 'body'],
  ];
  for (const [name, payload, field] of cases) {
    const answer = await post(JSON.stringify(payload));
    t.equal(answer.statusCode, 400, name);
    t.equal(answer.json().error.details?.[0]?.field, field, `${name}: names ${field}`);
  }
  t.equal((await post('{"ids": [')).statusCode, 400, 'broken JSON');
  t.equal((await post(`ids=${bobs}`, { 'content-type': 'application/x-www-form-urlencoded' })).statusCode, 415, 'a form post (what a cross-site form could send) is refused');
  t.equal((await post('[]')).statusCode, 400, 'a list for a body');
  t.equal((await post(JSON.stringify({ ids: [1] }))).json().error.details[0].field, 'body.ids.0', 'a number, not coerced');
  for (const query of ['limit=0', 'limit=201', 'limit=abc', 'after=-1', `after=${'1'.repeat(19)}`, 'after=1%20OR%201=1']) {
    const answer = await app.inject({ url: `/dead-letters?${query}`, headers: bearer(bob.apiKey) });
    t.equal(answer.statusCode, 400, query);
    t.match(answer.json().error.details?.[0]?.field, /^querystring/, `${query}: names the field`);
  }
  const asBob = (await app.inject({ url: `/dead-letters?tenant=${alice.tenant}&tenant_id=${alice.tenant}`, headers: bearer(bob.apiKey) })).json();
  t.same(asBob.deadLetters.map((l: { id: string }) => l.id), [bobs], 'a tenant in the query is ignored: the key decides');
  const after = (await pool.query('SELECT count(*)::int AS n, sum(failures)::int AS f FROM dead_letters')).rows[0];
  t.same(after, before, 'nothing stored, dropped or retried');
});

t.test('two retries at a time per process, the rest 429; a retry the projector does not apply in time is pending', async (t) => {
  await queue.pause();
  const answers = await Promise.all([0, 1, 2].map(() => app.inject({ method: 'POST', url: '/dead-letters/retry', payload: { ids: [bobs] }, headers: bearer(bob.apiKey) })));
  await queue.resume();
  const byStatus = answers.map((answer) => answer.statusCode).sort();
  t.same(byStatus, [200, 200, 429]);
  const limited = answers.find((answer) => answer.statusCode === 429);
  t.equal(limited?.headers['retry-after'], '10');
  t.same(answers.filter((answer) => answer.statusCode === 200).map((answer) => answer.json()), [
    { retried: 1, projected: 0, refused: 0, pending: 1, notFound: 0 },
    { retried: 1, projected: 0, refused: 0, pending: 1, notFound: 0 },
  ]);
  const busy = async () => Object.values(await queue.getJobCounts('waiting', 'active')).some((count) => count > 0);
  for (let i = 0; i < 200 && (await busy()); i++) await new Promise((r) => setTimeout(r, 50));
  t.ok((await pool.query('SELECT 1 FROM dead_letters WHERE id = $1', [bobs])).rowCount, 'kept: pending is not projected');
});

t.test('a source that fails is reported as such and the others still answer', async (t) => {
  const broken = createOpsDeps({ ...config, redisUrl: 'redis://127.0.0.1:1', cacheRedisUrl: 'redis://127.0.0.1:1' }, { logger });
  const brokenApp = buildApp(broken);
  t.teardown(async () => {
    await brokenApp.close();
    await closeOpsDeps(broken);
  });
  const answer = await brokenApp.inject({ url: '/status.json' });
  t.equal(answer.statusCode, 200);
  const report = answer.json() as StatusReport;
  t.equal(report.queue.ok, false, 'the queue Redis is down');
  t.type(!report.queue.ok && report.queue.error, 'string');
  t.match(report.staging, { ok: true }, 'PostgreSQL still answers');
  t.match(report.deadLetters, { ok: true });
  t.equal((await brokenApp.inject({ url: '/' })).statusCode, 200, 'the page itself needs neither');
});
