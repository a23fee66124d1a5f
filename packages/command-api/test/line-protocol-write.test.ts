import t from 'tap';
import { gzipSync } from 'node:zlib';
import { decodeToken } from '@strata/core';
import { buildTestApp, countStaged, type CommandTestContext } from './build-test-app.ts';

/*
 * InfluxDB line protocol on command-api (decision 0072): /api/v2/write and /write, their answers,
 * body forms, precisions and the all-or-nothing refusal that names every bad line.
 */

const HOUR = 3_600_000;
const V2 = '/api/v2/write?bucket=telegraf&org=acme';

/** A recent time as line protocol writes it in nanoseconds, with its millisecond value. */
function recent(offsetMs = -HOUR): { ms: number; ns: string } {
  const ms = Date.now() + offsetMs;
  return { ms, ns: `${BigInt(ms) * 1_000_000n}` };
}

function writer(ctx: CommandTestContext) {
  return (payload: string | Buffer, options: { url?: string; headers?: Record<string, string> } = {}) =>
    ctx.app.inject({
      method: 'POST',
      url: options.url ?? V2,
      headers: { authorization: `Token ${ctx.tenant.apiKey}`, 'content-type': 'text/plain; charset=utf-8', ...options.headers },
      payload,
    });
}

async function staged(ctx: CommandTestContext, token: unknown) {
  const batchId = decodeToken(String(token));
  const rows = await ctx.db.query<{ device: string; event_key: string; ms: string; type: string; values: unknown }>(
    `SELECT device, event_key, floor(extract(epoch FROM ts) * 1000)::bigint AS ms, type, "values" FROM staging_events WHERE batch_id = $1 ORDER BY device, ts`,
    [batchId],
  );
  return rows.rows.map((row) => ({ ...row, ms: Number(row.ms) }));
}

t.test('line protocol writes', async (t) => {
  const ctx = await buildTestApp(t, { ingestMaxWaitMs: 1, retentionDays: 30 });
  const write = writer(ctx);

  t.test('/api/v2/write: 204, the consistency token in a header, and the events staged', async (t) => {
    const a = recent();
    const response = await write(`cpu,host=web-01,cpu=cpu-total usage_user=12.5,usage_idle=87.5,cores=8i,ok=true,state="running" ${a.ns}\n`);
    t.equal(response.statusCode, 204);
    t.equal(response.body, '');
    t.equal(response.headers['x-influxdb-version'], '1.8.10');
    const token = response.headers['x-consistency-token'];
    t.ok(decodeToken(String(token)), 'X-Consistency-Token names the batch');
    const rows = await staged(ctx, token);
    t.same(rows.map(({ device, ms, type, values }) => ({ device, ms, type, values })), [
      { device: 'web-01', ms: a.ms, type: 'cpu', values: { usage_user: 12.5, usage_idle: 87.5, cores: 8, ok: true, state: 'running' } },
    ]);
    t.match(rows[0]?.event_key, /^h:/, 'no id: the key is the digest of the content');
  });

  t.test('/write (1.x): db and rp accepted and unused, every precision name 1.x takes', async (t) => {
    const a = recent();
    const seconds = Math.floor(a.ms / 1000);
    const cases: [string, string, number][] = [
      ['', a.ns, a.ms],
      ['n', a.ns, a.ms],
      ['ns', a.ns, a.ms],
      ['u', `${BigInt(a.ms) * 1000n + 999n}`, a.ms],
      ['us', `${BigInt(a.ms) * 1000n}`, a.ms],
      ['ms', `${a.ms}`, a.ms],
      ['s', `${seconds}`, seconds * 1000],
      ['m', `${Math.floor(seconds / 60)}`, Math.floor(seconds / 60) * 60_000],
      ['h', `${Math.floor(seconds / 3600)}`, Math.floor(seconds / 3600) * 3_600_000],
    ];
    for (const [precision, timestamp, ms] of cases) {
      const response = await write(`mem,device=p-${precision || 'none'} used=1 ${timestamp}`, { url: `/write?db=telegraf&rp=autogen&consistency=&precision=${precision}` });
      t.equal(response.statusCode, 204, `precision=${precision}`);
      t.same((await staged(ctx, response.headers['x-consistency-token'])).map((row) => row.ms), [ms], `precision=${precision}: ${timestamp} is ${ms} ms`);
    }
    const v2 = await write(`mem,device=v2s used=1 ${seconds}`, { url: `${V2}&precision=s` });
    t.same((await staged(ctx, v2.headers['x-consistency-token'])).map((row) => row.ms), [seconds * 1000], '/api/v2/write precision=s');
    const nanos = `${a.ns.slice(0, -6)}999999`;
    const cut = await write(`mem,device=cut used=1 ${nanos}`);
    t.same((await staged(ctx, cut.headers['x-consistency-token'])).map((row) => row.ms), [a.ms], 'finer digits are cut, never rounded up');

    const bad = await write('mem,device=x used=1', { url: `${V2}&precision=n` });
    t.equal(bad.statusCode, 400, 'v2 takes only ns, us, ms, s');
    t.same(Object.keys(bad.json()).sort(), ['code', 'message']);
    t.equal(bad.json().code, 'invalid');
    t.match(bad.json().message, /precision must be one of ns, us, ms, s/);
    const badV1 = await write('mem,device=x used=1', { url: '/write?precision=fortnight' });
    t.equal(badV1.statusCode, 400);
    t.match(badV1.json(), { error: /precision must be one of n, ns, u, us, µ, ms, s, m, h/ }, '1.x errors are {"error": ...}');
  });

  t.test('the device: the device tag, else host; deviceTag= names another; a line with none is bad', async (t) => {
    const a = recent();
    const plain = await write([`m,device=by-device,host=h1 v=1 ${a.ns}`, `m,host=by-host v=2 ${a.ns}`].join('\n'));
    t.equal(plain.statusCode, 204);
    t.same((await staged(ctx, plain.headers['x-consistency-token'])).map((row) => row.device), ['by-device', 'by-host'], 'device wins over host; host when there is no device tag');
    const named = await write([`m,sensor=by-sensor,host=h2 v=1 ${a.ns}`, `m,host=fallback v=2 ${a.ns}`].join('\n'), { url: `${V2}&deviceTag=sensor` });
    t.equal(named.statusCode, 204);
    t.same((await staged(ctx, named.headers['x-consistency-token'])).map((row) => row.device), ['by-sensor', 'fallback'], 'deviceTag=sensor, host when a line lacks it');
    const none = await write(`m,region=eu v=1 ${a.ns}`);
    t.equal(none.statusCode, 400);
    t.match(none.json().message, /line 1: device tag: missing/);
    const badParam = await write(`m,host=x v=1 ${a.ns}`, { url: `${V2}&deviceTag=${encodeURIComponent('a\u0000b')}` });
    t.equal(badParam.statusCode, 400);
    t.match(badParam.json().message, /deviceTag/);
  });

  t.test('a line without a timestamp is stamped with the arrival time', async (t) => {
    const before = Date.now();
    const response = await write('m,host=untimed v=1');
    const after = Date.now();
    t.equal(response.statusCode, 204);
    const [row] = await staged(ctx, response.headers['x-consistency-token']);
    t.ok(row && row.ms >= before && row.ms <= after, `ts ${row?.ms} is within [${before}, ${after}]`);
    const seconds = await write('m,host=untimed-s v=1', { url: `${V2}&precision=s` });
    const [cut] = await staged(ctx, seconds.headers['x-consistency-token']);
    t.equal((cut?.ms ?? 1) % 1000, 0, 'cut to the precision, as InfluxDB does');
  });

  t.test('400 names every bad line, with its number and why, and nothing is stored', async (t) => {
    const stagedBefore = await countStaged(ctx.db);
    const jobsBefore = await ctx.queue.count();
    const a = recent();
    const old = recent(-40 * 24 * HOUR);
    const body = [
      `cpu,host=good v=1 ${a.ns}`,
      'cpu,host=bad v=',
      '# a comment is not a line of data, but it is a line',
      `cpu,host=bad\\ name v=1 ${a.ns}`,
      `cpu,host=old v=1 ${old.ns}`,
      `${'m'.repeat(129)},host=good v=1 ${a.ns}`,
      `cpu,host=good v=1e301 ${a.ns}`,
      `cpu,host=good,zone=a\\,b ok=1 ${a.ns}`,
    ].join('\n');
    const response = await write(body);
    t.equal(response.statusCode, 400);
    const answer = response.json();
    t.equal(answer.code, 'invalid');
    t.equal(answer.line, 2, 'the first bad line, as InfluxDB 2 reports it');
    t.same(answer.errors.map((e: { line: number; field?: string }) => [e.line, e.field]), [
      [2, undefined],
      [4, 'device tag'],
      [5, 'timestamp'],
      [6, 'measurement'],
      [7, 'field "v"'],
    ]);
    t.ok(answer.errors.every((e: { reason: string }) => e.reason.length > 0), 'each says why');
    t.match(answer.message, /^5 of 7 lines are invalid; nothing was stored\. line 2: missing value for field "v"; line 4: device tag: must be/);
    t.match(answer.message, /line 5: timestamp: older than the retention of 30 days/);
    t.equal(await countStaged(ctx.db), stagedBefore, 'nothing staged, not even the good lines');
    t.equal(await ctx.queue.count(), jobsBefore, 'nothing queued');

    const v1 = await write(body, { url: '/write?db=x' });
    t.equal(v1.statusCode, 400);
    t.match(v1.json(), { error: /^5 of 7 lines are invalid; nothing was stored\. line 2/ });
    t.equal(v1.json().errors.length, 5);
  });

  t.test('only the last of 1,000 lines is bad: 400 naming line 1000, nothing stored', async (t) => {
    const before = await countStaged(ctx.db);
    const a = recent();
    const lines = Array.from({ length: 999 }, (_, i) => `m,host=h${i % 50} v=${i} ${BigInt(a.ms - i) * 1_000_000n}`);
    lines.push('m,host=h-last v=oops');
    const response = await write(lines.join('\n'));
    t.equal(response.statusCode, 400);
    t.same(response.json().errors.map((e: { line: number }) => e.line), [1000]);
    t.match(response.json().message, /^1 of 1000 lines are invalid/);
    t.equal(await countStaged(ctx.db), before);
  });

  t.test('points per request are bounded like JSON events: 10,000, then 413', async (t) => {
    const a = recent();
    const lines = Array.from({ length: 10_000 }, (_, i) => `m,host=bound v=${i} ${BigInt(a.ms - i) * 1_000_000n}`);
    const exactly = await write(lines.join('\n'));
    t.equal(exactly.statusCode, 204, '10,000 points are accepted');
    const before = await countStaged(ctx.db);
    lines.push(`m,host=bound v=-1 ${a.ns}`);
    const over = await write(lines.join('\n'));
    t.equal(over.statusCode, 413, 'Telegraf answers a 413 by splitting the batch');
    t.equal(over.json().code, 'request too large');
    t.match(over.json().message, /at most 10000 points per request/);
    t.equal(await countStaged(ctx.db), before, 'nothing stored');
  });

  t.test('an empty body, or only comments, is a 400', async (t) => {
    for (const body of ['', '\n\n', '# nothing\n']) {
      const response = await write(body);
      t.equal(response.statusCode, 400, JSON.stringify(body));
      t.match(response.json().message, /no points/);
    }
  });

  t.test('body forms: text/plain, no Content-Type, an empty one, form-encoded, gzip; others refused', async (t) => {
    const a = recent();
    const line = (device: string) => `m,host=${device} v=1 ${a.ns}`;
    const plain = await write(line('ct-plain'), { headers: { 'content-type': 'text/plain' } });
    t.equal(plain.statusCode, 204, 'text/plain');
    const none = await ctx.app.inject({ method: 'POST', url: V2, headers: { authorization: `Token ${ctx.tenant.apiKey}` }, payload: Buffer.from(line('ct-none')) });
    t.equal(none.statusCode, 204, 'no Content-Type');
    const empty = await write(line('ct-empty'), { headers: { 'content-type': '' } });
    t.equal(empty.statusCode, 204, 'an empty Content-Type, as the 1.x Go client sends');
    const form = await write(line('ct-form'), { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    t.equal(form.statusCode, 204, 'form-encoded: what curl --data-binary sends by default');
    const gzip = await write(gzipSync(line('ct-gzip')), { headers: { 'content-encoding': 'gzip' } });
    t.equal(gzip.statusCode, 204, 'gzip');
    t.same((await staged(ctx, gzip.headers['x-consistency-token'])).map((row) => row.device), ['ct-gzip']);
    for (const type of ['application/json', 'application/x-ndjson', 'application/octet-stream']) {
      const refused = await write(line('ct-refused'), { headers: { 'content-type': type } });
      t.equal(refused.statusCode, 415, type);
      t.match(refused.json().message, /not line protocol/);
    }
    const deflate = await write(line('ct-deflate'), { headers: { 'content-encoding': 'br' } });
    t.equal(deflate.statusCode, 415, 'an encoding other than gzip');
    const corrupt = await write(Buffer.from('not gzip at all'), { headers: { 'content-encoding': 'gzip' } });
    t.equal(corrupt.statusCode, 400);
    t.match(corrupt.json().message, /not valid gzip/);
  });

  t.test('the JSON route keeps its own body rules (the line-protocol parsers stay in their scope)', async (t) => {
    const response = await ctx.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: { authorization: `Bearer ${ctx.tenant.apiKey}`, 'content-type': 'text/plain' },
      payload: 'm,host=x v=1',
    });
    t.equal(response.statusCode, 415);
    t.same(Object.keys(response.json()), ['error'], 'and its own error shape');
  });

  t.test('GET and HEAD /ping answer as InfluxDB, without a key', async (t) => {
    const get = await ctx.app.inject({ method: 'GET', url: '/ping' });
    t.equal(get.statusCode, 204);
    t.equal(get.headers['x-influxdb-version'], '1.8.10');
    t.equal(get.headers['x-influxdb-build'], 'OSS');
    const head = await ctx.app.inject({ method: 'HEAD', url: '/ping' });
    t.equal(head.statusCode, 204);
    t.equal(head.headers['x-influxdb-version'], '1.8.10');
    const verbose = await ctx.app.inject({ method: 'GET', url: '/ping?verbose=true' });
    t.equal(verbose.statusCode, 200);
    t.same(verbose.json(), { version: '1.8.10' });
  });

  t.test('POST /query answers CREATE DATABASE as InfluxDB 1.x does, and refuses the rest', async (t) => {
    const key = { authorization: `Token ${ctx.tenant.apiKey}` };
    const form = await ctx.app.inject({
      method: 'POST',
      url: '/query',
      headers: { ...key, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ q: 'CREATE DATABASE "telegraf"' }).toString(),
    });
    t.equal(form.statusCode, 200, 'a form body, as Telegraf sends it');
    t.same(form.json(), { results: [{ statement_id: 0 }] });
    const query = await ctx.app.inject({ method: 'POST', url: `/query?q=${encodeURIComponent('create database mydb; CREATE DATABASE IF NOT EXISTS "x y" WITH DURATION 7d')}&chunked=true`, headers: key });
    t.equal(query.statusCode, 200, 'the query string, as the influx CLI sends it');
    t.same(query.json(), { results: [{ statement_id: 0 }, { statement_id: 1 }] });
    const select = await ctx.app.inject({ method: 'POST', url: `/query?q=${encodeURIComponent('SELECT * FROM cpu')}`, headers: key });
    t.equal(select.statusCode, 400);
    t.match(select.json(), { error: /only CREATE DATABASE.*"SELECT \* FROM cpu".*query API/ });
    const missing = await ctx.app.inject({ method: 'POST', url: '/query', headers: key });
    t.equal(missing.statusCode, 400);
    t.match(missing.json(), { error: /missing required parameter "q"/ });
    const anonymous = await ctx.app.inject({ method: 'POST', url: `/query?q=${encodeURIComponent('CREATE DATABASE x')}` });
    t.equal(anonymous.statusCode, 401);
  });
});
