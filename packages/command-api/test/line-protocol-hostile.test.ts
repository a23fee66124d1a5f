import t from 'tap';
import { gzipSync } from 'node:zlib';
import { createTenant } from '@strata/testkit';
import { buildTestApp, countStaged, type CommandTestContext } from './build-test-app.ts';

/*
 * The worst a line-protocol sender can send (decision 0072): every one is refused with a clear answer,
 * stores nothing, and costs bounded memory and time; a neighbour tenant's writes go through meanwhile.
 */

const V2 = '/api/v2/write?bucket=b';
const MAX_BODY_BYTES = 5 * 1024 * 1024;

function writer(ctx: CommandTestContext) {
  return (payload: string | Buffer, headers: Record<string, string> = {}, apiKey = ctx.tenant.apiKey) =>
    ctx.app.inject({ method: 'POST', url: V2, headers: { authorization: `Token ${apiKey}`, 'content-type': 'text/plain', ...headers }, payload });
}

t.test('hostile line protocol', async (t) => {
  const ctx = await buildTestApp(t, { ingestMaxWaitMs: 1, maxBodyBytes: MAX_BODY_BYTES });
  const write = writer(ctx);
  const ns = () => `${BigInt(Date.now() - 60_000) * 1_000_000n}`;
  const good = () => `m,host=fine v=1 ${ns()}`;
  type Asserts = Pick<typeof t, 'equal' | 'match'>;
  const refusedLines = async (t: Asserts, name: string, payload: string | Buffer, expected: RegExp, status = 400) => {
    const before = await countStaged(ctx.db);
    const response = await write(payload);
    t.equal(response.statusCode, status, `${name}: ${status}`);
    t.match(response.json().message, expected, `${name}: ${response.json().message.slice(0, 200)}`);
    t.equal(await countStaged(ctx.db), before, `${name}: nothing stored`);
    return response;
  };

  t.test('a zip bomb is 413 within MAX_BODY_BYTES of memory, never inflated whole', async (t) => {
    // 4,000 gzip members of 1 MiB of zeros each: 4 MB on the wire, 4 GiB inflated.
    const member = gzipSync(Buffer.alloc(1024 * 1024), { level: 9 });
    const bomb = Buffer.concat(Array.from({ length: 4000 }, () => member));
    t.ok(bomb.length < MAX_BODY_BYTES, `the bomb (${bomb.length} bytes) fits the body limit`);
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    const response = await write(bomb, { 'content-encoding': 'gzip' });
    t.equal(response.statusCode, 413);
    t.equal(response.json().code, 'request too large');
    t.match(response.json().message, /larger than 5242880 bytes once decompressed/);
    t.ok(performance.now() - started < 5000, 'answered without inflating 4 GiB');
    t.ok(process.memoryUsage().rss - rssBefore < 256 * 1024 * 1024, 'memory grew by far less than the inflated size');
  });

  t.test('a 10 MB body is 413 before it is read', async (t) => {
    const body = Buffer.alloc(10 * 1024 * 1024, 'm,host=x v=1\n');
    const response = await write(body);
    t.equal(response.statusCode, 413);
    t.equal(response.json().code, 'request too large');
  });

  t.test('2 MB single lines: a string field, a measurement, a tag, a field key', async (t) => {
    const big = 'x'.repeat(2 * 1024 * 1024);
    await refusedLines(t, 'a 2 MB string', `${good()}\nm,host=a s="${big}" ${ns()}`, /line 2: field "s": strings may be at most 65536 bytes/);
    await refusedLines(t, 'a 2 MB measurement', `${big},host=a v=1 ${ns()}`, /line 1: measurement: must be 1-128 characters/);
    await refusedLines(t, 'a 2 MB tag value', `m,host=a,t=${big} v=1 ${ns()}`, /line 1: tag "t": tag values must be 1-128 characters/);
    await refusedLines(t, 'a 2 MB field key', `m,host=a ${big}=1 ${ns()}`, /line 1: field "x{64}…": value names must be/);
  });

  t.test('invalid UTF-8 names its lines', async (t) => {
    const body = Buffer.concat([Buffer.from(`${good()}\nm,host=a s="`), Buffer.from([0xff, 0xfe]), Buffer.from(`" ${ns()}\n${good()}\nm,host=b`), Buffer.from([0xc3]), Buffer.from(` v=1 ${ns()}\n`)]);
    const response = await refusedLines(t, 'invalid UTF-8', body, /^2 of 4 lines are invalid/);
    t.same(response.json().errors, [{ line: 2, reason: 'is not valid UTF-8' }, { line: 4, reason: 'is not valid UTF-8' }]);
  });

  t.test('U+0000 anywhere', async (t) => {
    await refusedLines(t, 'in a tag value', `m,host=a,t=x\u0000y v=1 ${ns()}`, /line 1: tag "t": tag values must be .*without U\+0000/);
    await refusedLines(t, 'in a tag key', `m,host=a,x\u0000=y v=1 ${ns()}`, /line 1: tag "x\\u0000": tag keys must be/);
    await refusedLines(t, 'in the device tag', `m,host=a\u0000 v=1 ${ns()}`, /line 1: device tag: must be 1-128 characters of \[A-Za-z0-9._:-\]/);
    await refusedLines(t, 'in a field key', `m,host=a k\u0000=1 ${ns()}`, /line 1: field "k\\u0000": value names must be/);
    await refusedLines(t, 'in a string', `m,host=a s="a\u0000" ${ns()}`, /line 1: field "s": must be well-formed Unicode without U\+0000/);
    await refusedLines(t, 'in the measurement', `m\u0000,host=a v=1 ${ns()}`, /line 1: measurement: must be/);
  });

  t.test('NaN, infinities and numbers past what PostgreSQL holds', async (t) => {
    for (const value of ['NaN', 'nan', 'Inf', '-Inf', '+Inf', 'Infinity']) {
      await refusedLines(t, value, `m,host=a v=${value} ${ns()}`, /line 1: invalid value/);
    }
    await refusedLines(t, '1e309', `m,host=a v=1e309 ${ns()}`, /line 1: field "v" is out of the range of a 64-bit float/);
    await refusedLines(t, '1e301', `m,host=a v=1e301 ${ns()}`, /line 1: field "v": must be a finite number of magnitude at most 1e\+300/);
    await refusedLines(t, '2^64 u', `m,host=a v=18446744073709551616u ${ns()}`, /line 1: unsigned integer field "v" is out of range/);
    await refusedLines(t, '2^63 i', `m,host=a v=9223372036854775808i ${ns()}`, /line 1: integer field "v" is out of range/);
    await refusedLines(t, '-1u', `m,host=a v=-1u ${ns()}`, /line 1: unsigned integer field "v" is negative/);
    await refusedLines(t, 'a timestamp past int64', `m,host=a v=1 92233720368547758070`, /line 1: timestamp is out of the range/);
    await refusedLines(t, 'a timestamp before 1970', `m,host=a v=1 -1000000000`, /line 1: timestamp: is before 1970/);
    await refusedLines(t, 'a timestamp in the far future', `m,host=a v=1 9223372036854775806`, /line 1: timestamp: later than/);
  });

  t.test('integers beyond 2^53 are stored as the nearest double (decision 0072)', async (t) => {
    const response = await write(`m,host=big i=9007199254740993i,u=18446744073709551615u,max=9223372036854775807i ${ns()}`);
    t.equal(response.statusCode, 204);
    const rows = await ctx.db.query<{ values: Record<string, number> }>(`SELECT "values" FROM staging_events WHERE device = 'big'`);
    t.same(rows.rows[0]?.values, { i: 9007199254740992, u: 18446744073709551616, max: 9223372036854775808 });
  });

  t.test('an early timestamp is read in its precision, never as Unix seconds', async (t) => {
    // 1971-01-01 in ns is 31,536,000,000 ms: below the size at which core reads a number as seconds.
    const response = await write('m,host=early v=1 31536000000000000');
    t.equal(response.statusCode, 204, 'within this test\'s century of retention');
    const rows = await ctx.db.query<{ ms: string }>(`SELECT floor(extract(epoch FROM ts) * 1000)::bigint AS ms FROM staging_events WHERE device = 'early'`);
    t.same(rows.rows.map((row) => Number(row.ms)), [31_536_000_000], '1971-01-01, not the year 2969');
  });

  t.test('names that are plain keys: __proto__, constructor', async (t) => {
    const response = await write(`m,host=proto __proto__=1,constructor="c",toString=t ${ns()}`);
    t.equal(response.statusCode, 204);
    const rows = await ctx.db.query<{ values: string }>(`SELECT "values"::text AS values FROM staging_events WHERE device = 'proto'`);
    t.match(rows.rows[0]?.values, /"__proto__": 1/);
    t.match(rows.rows[0]?.values, /"constructor": "c"/);
  });

  t.test('device names that are not names: a slash, dots up, a wildcard', async (t) => {
    for (const device of ['a/b', '..', '+', '#']) {
      const escaped = device.replace(/[ ,=]/g, '\\$&');
      const response = await write(`m,host=${escaped} v=1 ${ns()}`);
      if (device === '..') t.equal(response.statusCode, 204, '".." is a valid device name (dots are allowed) and only a name');
      else {
        t.equal(response.statusCode, 400, device);
        t.match(response.json().message, /device tag: must be/);
      }
    }
  });

  t.test('more than 10,000 lines is 413 at once: 350,000 lines cost no more than 10,001', async (t) => {
    const lines = 'm,host=x v=1\n'.repeat(350_000);
    const started = performance.now();
    const response = await write(lines);
    t.equal(response.statusCode, 413);
    t.match(response.json().message, /at most 10000 points/);
    t.ok(performance.now() - started < 3000, 'reading stops at the bound');
  });

  t.test('a neighbour tenant writes through while one floods bad bodies', async (t) => {
    const neighbour = await createTenant(ctx.db, 'neighbour');
    const bad = Array.from({ length: 5000 }, (_, i) => `m,host=x v=${i % 2 === 0 ? 'NaN' : 1} ${ns()}`).join('\n');
    const floods = Array.from({ length: 4 }, () => write(bad));
    const theirs = Array.from({ length: 4 }, (_, i) => write(`m,host=neighbour-${i} v=1 ${ns()}`, {}, neighbour.apiKey));
    const [flooded, written] = [await Promise.all(floods), await Promise.all(theirs)];
    t.ok(flooded.every((response) => response.statusCode === 400));
    t.ok(written.every((response) => response.statusCode === 204), 'every neighbour write is accepted');
    const rows = await ctx.db.query(`SELECT count(*)::int AS n FROM staging_events WHERE device LIKE 'neighbour-%'`);
    t.equal(rows.rows[0].n, 4);
  });
});
