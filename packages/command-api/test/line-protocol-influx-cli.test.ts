import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { createLogger, createPool } from '@strata/core';
import { apiClient, createTenant, startSystem, type Answer } from '@strata/testkit';

/*
 * The real InfluxDB 1.x CLI (Debian's influxdb-client) against Strata as separate processes: it pings,
 * creates its database and INSERTs line protocol to /write with the key as its Basic auth password,
 * and what it wrote is read back through query-api (decision 0072).
 */

const INFLUX = '/usr/bin/influx';
const run = promisify(execFile);

async function readUntil(read: () => Promise<Answer>, done: (answer: Answer) => boolean, timeoutMs = 20_000): Promise<Answer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await read();
    if (done(answer) || Date.now() > deadline) return answer;
    await sleep(100);
  }
}

t.test('the influx CLI writes through /write and the points are read back from query-api', {
  skip: existsSync(INFLUX) ? false : 'the influx CLI is not installed: apt-get update && apt-get install -y influxdb-client',
}, async (t) => {
  const system = await startSystem(t, { ingestMaxWaitMs: 2 });
  const db = createPool({ connectionString: system.config.databaseUrl, max: 2, applicationName: 'influx-cli-test' }, createLogger('test', 'silent'));
  t.teardown(() => db.end());
  const tenant = await createTenant(db, 'influx cli');
  const port = new URL(system.urls['command-api']).port;
  const influx = (args: string[], apiKey = tenant.apiKey) =>
    run(INFLUX, ['-host', '127.0.0.1', '-port', port, '-username', 'x', '-password', apiKey, ...args], { timeout: 30_000 }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: error.code ?? -1, stdout: error.stdout ?? '', stderr: error.stderr ?? '' }),
    );
  const read = apiClient(system.urls['query-api'], tenant.apiKey);

  const created = await influx(['-execute', 'CREATE DATABASE telegraf']);
  t.same(created, { code: 0, stdout: '', stderr: '' }, 'CREATE DATABASE is answered as InfluxDB does');

  const ns = `${BigInt(Date.now() - 60_000) * 1_000_000n}`;
  const inserted = await influx(['-database', 'telegraf', '-execute', `INSERT weather,device=station-1,site=roof\\ top temp=21.5,humidity=40i,ok=true,note="dry \\"air\\"" ${ns}`]);
  t.same(inserted, { code: 0, stdout: '', stderr: '' }, 'INSERT succeeds');
  const state = await readUntil(() => read.get('/v1/devices/station-1?consistency=strong'), (answer) => answer.status === 200);
  t.equal(state.status, 200, 'the device is visible through query-api');
  t.same(state.body.values, { temp: 21.5, humidity: 40, ok: true, note: 'dry "air"' });

  const untimed = await influx(['-execute', 'INSERT weather,host=station-2 temp=19']);
  t.equal(untimed.code, 0, 'without a database and without a timestamp');
  const second = await readUntil(() => read.get('/v1/devices/station-2?consistency=strong'), (answer) => answer.status === 200);
  t.equal(second.body.values.temp, 19);

  // The 1.6 CLI prints a refused INSERT as `ERR: <body>` and still exits 0, with InfluxDB as with Strata.
  const bad = await influx(['-database', 'telegraf', '-execute', 'INSERT weather,device=station-3 temp=NaN']);
  t.match(bad.stdout + bad.stderr, /^ERR: \{"error":"1 of 1 lines are invalid; nothing was stored\. line 1: invalid value \\"NaN\\" for field \\"temp\\"/, 'the CLI prints which line and why');
  const absent = await read.get('/v1/devices/station-3?consistency=strong');
  t.equal(absent.status, 404, 'nothing stored');

  const wrong = await influx(['-execute', 'INSERT weather,device=station-4 temp=1'], 'sk_wrong');
  t.match(wrong.stdout + wrong.stderr, /^ERR: \{"error":"invalid API key"\}/, 'a wrong key is refused');
  t.equal((await read.get('/v1/devices/station-4?consistency=strong')).status, 404);
});
