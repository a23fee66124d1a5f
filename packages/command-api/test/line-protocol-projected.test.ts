import t from 'tap';
import { gzipSync } from 'node:zlib';
import { startInProcessProjector, waitForToken } from '@strata/testkit';
import { buildTestApp, type CommandTestContext } from './build-test-app.ts';

/*
 * Line protocol over a real socket, projected into history by the real projector (decision 0072):
 * a Telegraf-shaped gzip body, every escaping case stored exactly as meant, a re-sent body stored
 * once, and tags other than the device tag stored as the event's labels (issue 13).
 */

const HOUR = 3_600_000;

function sender(ctx: CommandTestContext) {
  const port = (ctx.app.server.address() as { port: number }).port;
  return async (path: string, body: string | Buffer, headers: Record<string, string> = {}) => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {
      method: 'POST',
      headers: { authorization: `Token ${ctx.tenant.apiKey}`, 'content-type': 'text/plain; charset=utf-8', ...headers },
      body,
    });
    return { status: response.status, token: response.headers.get('x-consistency-token'), text: await response.text() };
  };
}

t.test('line protocol, projected', async (t) => {
  const ctx = await buildTestApp(t, { ingestMaxWaitMs: 1, retentionDays: 30 });
  await startInProcessProjector(t, ctx.config);
  const send = sender(ctx);
  const base = Date.now() - HOUR;

  t.test('a Telegraf-shaped gzip body of 5,000 points: 204 and all 5,000 stored', async (t) => {
    // What Telegraf's outputs.influxdb_v2 sends: gzip, Token auth, host tag, several fields, ns times.
    const lines: string[] = [];
    for (let host = 0; host < 250; host++) {
      for (let tick = 0; tick < 10; tick++) {
        const ns = `${BigInt(base + tick * 10_000) * 1_000_000n}`;
        lines.push(`cpu,cpu=cpu-total,host=tg-${host} usage_user=${(host % 7) + tick / 10},usage_system=1.5,usage_idle=${90 - tick}i,up=true ${ns}`);
        lines.push(`mem,host=tg-${host} used=${host * 1024 + tick}i,available_percent=42.5,free=${2 ** 40 + tick}u ${ns}`);
      }
    }
    t.equal(lines.length, 5000);
    const body = gzipSync(`${lines.join('\n')}\n`);
    const response = await send('/api/v2/write?bucket=telegraf&org=acme&precision=ns', body, { 'content-encoding': 'gzip' });
    t.equal(response.status, 204, response.text);
    await waitForToken(ctx.db, response.token as string, 60_000);
    const stored = await ctx.db.query<{ n: number; devices: number; types: string[] }>(
      `SELECT count(*)::int AS n, count(DISTINCT device)::int AS devices, array_agg(DISTINCT type ORDER BY type) AS types FROM tenant_events WHERE device LIKE 'tg-%'`,
    );
    t.same(stored.rows[0], { n: 5000, devices: 250, types: ['cpu', 'mem'] });
    const one = await ctx.db.query(`SELECT "values" FROM tenant_events WHERE device = 'tg-3' AND type = 'mem' ORDER BY ts LIMIT 1`);
    t.same(one.rows[0].values, { used: 3072, available_percent: 42.5, free: 2 ** 40 });
  });

  t.test('every escaping case, stored exactly as meant', async (t) => {
    const ns = `${BigInt(base) * 1_000_000n}`;
    const body = [
      `door\\ opened\\,\\ "front"=1,device=door-1 state="open" ${ns}`,
      `m=eq\\=,device=door-2,zone\\ name=lobby\\ east\\,\\=1 a\\ b=1,c\\,d=2,e\\=f=3,"q"=4,温度=5,__proto__=6 ${ns}`,
      `m,device=door-3 s="say \\"hi\\"",b="back\\\\slash",raw="a\\b\\,c",nl="line1\nline2",empty="" ${ns}`,
      `\\a\\,b,device=door-4 \\x=1 ${ns}`,
    ].join('\n');
    const response = await send('/api/v2/write?bucket=b', body);
    t.equal(response.status, 204, response.text);
    await waitForToken(ctx.db, response.token as string);
    const rows = await ctx.db.query<{ device: string; type: string; values: string }>(
      `SELECT device, type, "values"::text AS values FROM tenant_events WHERE device LIKE 'door-%' ORDER BY device`,
    );
    const byDevice = Object.fromEntries(rows.rows.map((row) => [row.device, { type: row.type, values: JSON.parse(row.values, (_k, v) => v) }]));
    t.same(byDevice['door-1'], { type: 'door opened, "front"=1', values: { state: 'open' } }, 'escaped space and comma in the measurement, = and quotes as they are');
    t.equal(byDevice['door-2']?.type, 'm=eq\\=', 'in a measurement = needs no escape and \\= is two characters');
    t.same(Object.keys(byDevice['door-2']?.values ?? {}).sort(), ['"q"', '__proto__', 'a b', 'c,d', 'e=f', '温度'].sort(), 'field keys with space, comma, =, quotes, non-ASCII, __proto__');
    t.match(rows.rows.find((row) => row.device === 'door-2')?.values, /"__proto__": 6/);
    t.same(byDevice['door-3']?.values, { s: 'say "hi"', b: 'back\\slash', raw: 'a\\b\\,c', nl: 'line1\nline2', empty: '' }, 'string escapes: only \\" and \\\\');
    t.same(byDevice['door-4'], { type: '\\a,b', values: { '\\x': 1 } }, 'a backslash before an ordinary character stays');
  });

  t.test('a body sent twice is stored once (the key is the digest of each line)', async (t) => {
    const lines = Array.from({ length: 20 }, (_, i) => `resend,host=again v=${i},s="x" ${BigInt(base + i * 1000) * 1_000_000n}`).join('\n');
    for (let i = 0; i < 3; i++) {
      const response = await send('/write?db=telegraf&precision=n', lines);
      t.equal(response.status, 204);
      await waitForToken(ctx.db, response.token as string);
    }
    const stored = await ctx.db.query(`SELECT count(*)::int AS n FROM tenant_events WHERE device = 'again'`);
    t.equal(stored.rows[0].n, 20);
    const twice = await send('/api/v2/write?bucket=b', `dup,host=twice v=1 ${BigInt(base) * 1_000_000n}\ndup,host=twice v=1 ${BigInt(base) * 1_000_000n}`);
    t.equal(twice.status, 204, 'the same line twice in one body');
    await waitForToken(ctx.db, twice.token as string);
    const once = await ctx.db.query(`SELECT count(*)::int AS n FROM tenant_events WHERE device = 'twice'`);
    t.equal(once.rows[0].n, 1);
  });

  t.test('tags other than the device tag are the labels; a tag alone makes another event; a re-sent line is stored once', async (t) => {
    const ns = (offset: number) => `${BigInt(base + offset) * 1_000_000n}`;
    const body = [
      `taps,device=tap-1,team=red,site=north\\ hall v=1 ${ns(0)}`,
      `taps,host=tap-2,team=blue v=1 ${ns(0)}`,
      `taps,device=tap-3,team=red v=1 ${ns(0)}`,
      `taps,device=tap-3,team=blue v=1 ${ns(0)}`,
      `taps,device=tap-4,host=gw-1,__proto__=p v=1 ${ns(0)}`,
      `taps,device=tap-5 v=1 ${ns(0)}`,
    ].join('\n');
    for (let i = 0; i < 2; i++) {
      const response = await send('/api/v2/write?bucket=b', body);
      t.equal(response.status, 204, response.text);
      await waitForToken(ctx.db, response.token as string);
    }
    const rows = await ctx.db.query<{ device: string; labels: string | null }>(
      `SELECT device, labels::text AS labels FROM tenant_events WHERE device LIKE 'tap-%' ORDER BY device, labels::text`,
    );
    t.same(
      rows.rows.map((row) => [row.device, row.labels === null ? null : JSON.parse(row.labels)]),
      [
        ['tap-1', { site: 'north hall', team: 'red' }],
        ['tap-2', { team: 'blue' }],
        ['tap-3', { team: 'blue' }],
        ['tap-3', { team: 'red' }],
        ['tap-4', JSON.parse('{"__proto__": "p", "host": "gw-1"}')],
        ['tap-5', null],
      ],
      'each line once (sent twice), the device tag never a label, host a label when device names the device',
    );
  });
});
