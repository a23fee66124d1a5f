// `pnpm test:probes`: the attacker's probe list of issue 9, run black-box against the four services as
// OS processes on the local PostgreSQL and Redis (a database and Redis prefix of its own). Prints one
// line per probe with what it expected and what it got, and `probes: N passed, N failed`.
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { decodeToken } from '@strata/core';
import { createTenant, recentBaseTime, startSystem } from '@strata/testkit';
import { eventually, http, rawRequest, runOps, type Answer } from './probe-kit.ts';

const teardowns: (() => unknown)[] = [];
const system = await startSystem({ teardown: (fn) => teardowns.unshift(fn) }, {}, {
  // Small limits, so each one can be seen to bite within a probe.
  INGEST_RATE_LIMIT_EVENTS_PER_SECOND: '0',
  INGEST_RATE_LIMIT_BYTES_PER_SECOND: '0',
  READ_RATE_LIMIT_PER_SECOND: '0',
  AUTH_FAILURES_PER_MINUTE: '0',
  HTTP_REQUEST_TIMEOUT_MS: '2000',
  STREAMS_PER_TENANT: '5',
  MAX_KEYS_PER_DEVICE: '300',
});
const W = system.urls['command-api'];
const R = system.urls['query-api'];
const env = { DATABASE_URL: system.config.databaseUrl, REDIS_URL: system.config.redisUrl, REDIS_PREFIX: system.config.redisPrefix, LOG_LEVEL: 'silent' };
const db = new pg.Pool({ connectionString: system.config.databaseUrl, max: 2 });
teardowns.unshift(() => db.end());
const a = await createTenant(db, 'probe-a');
const b = await createTenant(db, 'probe-b');
const NOW = Date.now();
const BASE = recentBaseTime();

const results: { name: string; ok: boolean; detail: string }[] = [];
async function probe(name: string, run: () => Promise<[boolean, string]>): Promise<void> {
  try {
    const [ok, detail] = await run();
    results.push({ name, ok, detail });
  } catch (error) {
    results.push({ name, ok: false, detail: `threw ${String(error).slice(0, 200)}` });
  }
}
const status = (answer: Answer, want: number): [boolean, string] => [answer.status === want, `want ${want}, got ${answer.status} ${answer.text.slice(0, 120)}`];
const post = (body: unknown, key = a.apiKey, path = '/v1/events', headers: Record<string, string> = {}) =>
  http(W + path, { method: 'POST', key, body: typeof body === 'string' ? body : JSON.stringify(body), headers });
const get = (path: string, key = a.apiKey) => http(R + path, { key });
const ev = (values: string, extra = '') => `{"device":"p","ts":${BASE}${extra},"values":${values}}`;
async function applied(token: string): Promise<boolean> {
  return eventually(async () => ((await db.query('SELECT 1 FROM applied_batches WHERE batch_id = $1', [decodeToken(token)])).rowCount ?? 0) > 0, 15_000);
}
/** A probe with a key that was never issued must fail, not fall back to tenant A's own key. */
const keyOf = (issued: { apiKey: string } | undefined): string => issued?.apiKey ?? 'sk_never_issued';
async function issueKey(args: string[]): Promise<{ keyId: string; apiKey: string } | undefined> {
  const run = await runOps(['tenant', 'key', a.tenant, ...args], env);
  try {
    return JSON.parse(run.output.trim().split('\n').pop() ?? '');
  } catch {
    return undefined;
  }
}

// 1. Keyless writes and reads by encoded or absolute-form paths.
for (const path of ['/%76%31/events', '/v%31/events', '/V1/events', '/v1/%65vents']) {
  await probe(`keyless POST ${path} → 401 (or 404), never reaching the handler`, async () => {
    const got = await post(ev('{"v":1}'), '', path, { authorization: '' });
    return [got.status === 401 || got.status === 404, `got ${got.status} ${got.text.slice(0, 100)}`];
  });
}
await probe('keyless absolute-form POST http://h/v1/events → 401', async () => {
  const body = ev('{"v":1}');
  const { status: got } = await rawRequest(W, `POST http://h/v1/events HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
  return [got === 401, `want 401, got ${got}`];
});
for (const path of ['/%76%31/devices', '/v%31/devices/p', '/v1/%64evices']) {
  await probe(`keyless GET ${path} (query-api) → 401 or 404, never 200/5xx`, async () => {
    const got = await http(R + path);
    return [got.status === 401 || got.status === 404, `got ${got.status}`];
  });
}
await probe('a 16 KB junk key → 401', async () => status(await post(ev('{"v":1}'), 'x'.repeat(16_000)), 401));

// 2. Values the database would refuse, refused at the door.
const refuse: [string, string][] = [
  ['U+0000 in a value', ev('{"s":"a\\u0000b"}')],
  ['U+0000 in an id', ev('{"v":1}', ',"id":"x\\u0000"')],
  ['lone surrogate in a value', ev('{"s":"\\ud800"}')],
  ['lone surrogate in an id', ev('{"v":1}', ',"id":"\\udfff"')],
  ['lone surrogate in a value key', ev('{"\\ud800":1}')],
  ['1.7e308', ev('{"v":1.7e308}')],
  ['1e301', ev('{"v":1e301}')],
  ['1e400 (Infinity)', ev('{"v":1e400}')],
  ['far future 9999-12-31', '{"device":"p","ts":"9999-12-31T23:59:59Z","values":{"v":1}}'],
  ['now + 2 h', `{"device":"p","ts":${NOW + 2 * 3_600_000},"values":{"v":1}}`],
  ['2026-11-31', '{"device":"p","ts":"2026-11-31T00:00:00Z","values":{"v":1}}'],
  ['a 129-character value key', ev(`{"${'k'.repeat(129)}":1}`)],
  ['a 64 KiB + 1 string', ev(`{"s":"${'s'.repeat(65_537)}"}`)],
];
for (const [name, body] of refuse) await probe(`${name} → 400`, async () => status(await post(body), 400));

// 9. Names are plain keys, stored and returned exactly.
await probe('__proto__, constructor, toString as value keys (NDJSON) → stored and read back', async () => {
  const answer = await post('{"device":"protos","ts":' + BASE + ',"values":{"__proto__":1,"constructor":2,"toString":3,"a b,c=d":4}}', a.apiKey, '/v1/events', { 'content-type': 'application/x-ndjson' });
  if (answer.status !== 202) return [false, `write ${answer.status} ${answer.text.slice(0, 100)}`];
  await applied(answer.json.token);
  const read = await get('/v1/devices/protos?consistency=strong');
  const keys = Object.keys(read.json?.values ?? {}).sort();
  return [JSON.stringify(keys) === JSON.stringify(['__proto__', 'a b,c=d', 'constructor', 'toString'].sort()), `values ${read.text.slice(0, 160)}`];
});
await probe('a 128-character device is written and read back (not 414)', async () => {
  const device = 'd'.repeat(128);
  const answer = await post({ device, ts: BASE, values: { v: 1 } });
  if (answer.status !== 202) return [false, `write ${answer.status}`];
  await applied(answer.json.token);
  return status(await get(`/v1/devices/${device}?consistency=strong`), 200);
});
await probe('the 404 page does not echo access_token', async () => {
  const answer = await get('/v1/nope?access_token=sk_secret_value');
  return [!answer.text.includes('sk_secret_value'), answer.text.slice(0, 160)];
});

// 3. Amplification: the key budget per device.
await probe('a device past MAX_KEYS_PER_DEVICE (300) → 400 on values', async () => {
  const wide = (from: number) => ({ device: 'wide', ts: BASE, id: `w${from}`, values: Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`k${from + i}`, i])) });
  const first = await post(wide(0));
  const second = await post(wide(150));
  const third = await post(wide(300));
  return [first.status === 202 && second.status === 202 && third.status === 400 && /values/.test(third.text), `202,202,400 wanted; got ${first.status},${second.status},${third.status} ${third.text.slice(0, 100)}`];
});

// 7. Client mistakes are 400s naming the parameter.
for (const [name, path] of [
  ['forged cursor', '/v1/devices?cursor=AAAA'],
  ['cursor of wrong JSON', `/v1/devices?cursor=${Buffer.from('{"k":[1,2]}').toString('base64url')}`],
  ['U+0000 in a parameter', '/v1/devices/p/events?type=%00'],
  ['U+0000 in where=', '/v1/devices?where=values.v%3D%00'],
  ['where= with a bad operand', '/v1/devices?where=values.v%3Eabc'],
  ['U+0000 in the device path', '/v1/devices/a%00b'],
  ['a lone surrogate byte sequence in from=', '/v1/devices/p/series?value=v&from=%ED%A0%80&to=x'],
  ['events cursor forged', '/v1/devices/p/events?cursor=%FF%FF'],
] as const) {
  await probe(`${name} → 400`, async () => {
    const answer = await get(path);
    return [answer.status === 400, `got ${answer.status} ${answer.text.slice(0, 120)}`];
  });
}

// 8. Scopes, device binding, listing and revocation.
const writeKey = await issueKey(['--scope', 'write']);
const readKey = await issueKey(['--scope', 'read']);
const boundKey = await issueKey(['--scope', 'all', '--device', 'mine']);
await probe('ops tenant key --scope/--device issue keys', async () => [Boolean(writeKey && readKey && boundKey), `write ${Boolean(writeKey)}, read ${Boolean(readKey)}, bound ${Boolean(boundKey)}`]);
await probe('a write key cannot read → 403', async () => status(await get('/v1/devices', keyOf(writeKey)), 403));
await probe('a read key cannot write → 403', async () => status(await post(ev('{"v":1}'), keyOf(readKey)), 403));
await probe('a device-bound key cannot write as another device → 403', async () => status(await post({ device: 'other', ts: BASE, values: { v: 1 } }, keyOf(boundKey)), 403));
await probe('a device-bound key writes as its device → 202', async () => status(await post({ device: 'mine', ts: BASE, values: { v: 1 } }, keyOf(boundKey)), 202));
await probe('a device-bound key cannot list the tenant → 403', async () => status(await get('/v1/devices', keyOf(boundKey)), 403));
await probe('a device-bound key cannot read another device → 403', async () => status(await get('/v1/devices/p', keyOf(boundKey)), 403));
await probe('ops key list shows the keys without secrets', async () => {
  const run = await runOps(['key', 'list', a.tenant], env);
  return [run.code === 0 && run.output.split('\n').filter(Boolean).length >= 4 && !run.output.includes('sk_'), run.output.slice(0, 160)];
});
await probe('a revoked key is refused within 1 s, on both APIs, and its open stream is closed', async () => {
  if (!readKey || !writeKey) return [false, 'no keys'];
  await get('/v1/devices', readKey.apiKey); // warm the auth caches
  await post(ev('{"v":1}'), writeKey.apiKey);
  const controller = new AbortController();
  const stream = await fetch(`${R}/v1/stream`, { headers: { authorization: `Bearer ${readKey.apiKey}` }, signal: controller.signal }).catch(() => undefined);
  const streamEnded = stream?.body ? (async () => { for await (const _ of stream.body as unknown as AsyncIterable<unknown>) { /* drain */ } return true; })().catch(() => true) : Promise.resolve(false);
  const revoked = await runOps(['key', 'revoke', readKey.keyId], env);
  await runOps(['key', 'revoke', writeKey.keyId], env);
  const started = Date.now();
  const refused = await eventually(async () => (await get('/v1/devices', readKey.apiKey)).status === 401 && (await post(ev('{"v":1}'), writeKey.apiKey)).status === 401, 1000);
  const ended = await Promise.race([streamEnded, sleep(1500).then(() => false)]);
  controller.abort();
  return [revoked.code === 0 && refused && ended, `revoke exit ${revoked.code}, refused ${refused} after ${Date.now() - started} ms, stream ended ${ended}`];
});

// 4. Connections: streams per tenant, stalled bodies.
await probe('streams per tenant capped (STREAMS_PER_TENANT=5): 6th → 429, other tenant still served', async () => {
  const controllers: AbortController[] = [];
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) {
    const controller = new AbortController();
    controllers.push(controller);
    const response = await fetch(`${R}/v1/stream`, { headers: { authorization: `Bearer ${a.apiKey}` }, signal: controller.signal }).catch(() => undefined);
    statuses.push(response?.status ?? 0);
  }
  const other = new AbortController();
  const theirs = await fetch(`${R}/v1/stream`, { headers: { authorization: `Bearer ${b.apiKey}` }, signal: other.signal }).catch(() => undefined);
  for (const controller of [...controllers, other]) controller.abort();
  return [statuses.slice(0, 5).every((s) => s === 200) && statuses[5] === 429 && theirs?.status === 200, `A ${statuses.join(',')}, B ${theirs?.status}`];
});
await probe('a POST that stalls mid-body is cut off (HTTP_REQUEST_TIMEOUT_MS=2000)', async () => {
  const { status: got, closedAfterMs } = await rawRequest(W, `POST /v1/events HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer ${a.apiKey}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"device":`, 15_000);
  return [got !== -1 && closedAfterMs < 10_000, `answer ${got} after ${closedAfterMs} ms (-1 = still open after 15 s)`];
});

// 6. Configuration errors never print the password.
await probe('a config error does not print the database password', async () => {
  const run = await runOps(['health'], { ...env, DATABASE_URL: 'mysql://app:hunter2-secret@db/x' });
  return [run.code !== 0 && !run.output.includes('hunter2-secret'), run.output.slice(0, 160).replaceAll('\n', ' ')];
});

for (const result of results) console.log(`${result.ok ? 'PASS' : 'FAIL'} ${result.name}${result.ok ? '' : `  (${result.detail})`}`);
const passed = results.filter((result) => result.ok).length;
console.log(`\nprobes: ${passed} passed, ${results.length - passed} failed`);
for (const teardown of teardowns) await teardown();
process.exit(results.length === passed ? 0 : 1);
