import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import t from 'tap';
import { createLogger, createPool, issueApiKey } from '@strata/core';
import { apiClient, createTenant, freePort, startSystem, type Answer } from '@strata/testkit';

/* A real device client (Eclipse Mosquitto's mosquitto_pub) against the real processes; read back through query-api. */
const MOSQUITTO_PUB = '/usr/bin/mosquitto_pub';
const BASE = Date.now() - 3_600_000;

function mosquittoPub(port: number, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(MOSQUITTO_PUB, ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 15_000 }, (error, _stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stderr });
    });
  });
}

/** Asks again until the answer passes `done` (the projector works in the background), for up to 15 s. */
async function eventually(ask: () => Promise<Answer>, done: (answer: Answer) => boolean): Promise<Answer> {
  const deadline = Date.now() + 15_000;
  let answer = await ask();
  while (!done(answer) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    answer = await ask();
  }
  return answer;
}

t.test('mosquitto_pub -q 1 publishes telemetry that query-api serves', { skip: existsSync(MOSQUITTO_PUB) ? false : 'needs mosquitto_pub (apt-get install mosquitto-clients)' }, async (t) => {
  const port = await freePort();
  const system = await startSystem(t, { ingestMaxWaitMs: 2 }, { MQTT_PORT: String(port) });
  const db = createPool({ connectionString: system.config.databaseUrl, max: 2, applicationName: 'mqtt-e2e' }, createLogger('e2e', 'silent'));
  t.teardown(() => db.end());
  const { tenant, apiKey } = await createTenant(db, 'mosquitto');
  const read = apiClient(system.urls['query-api'], apiKey);

  const single = await mosquittoPub(port, ['-q', '1', '-u', apiKey, '-t', 'v1/devices/boiler-1/telemetry', '-m', JSON.stringify({ ts: BASE, values: { temp: 61.5, burner: 'on' } })]);
  t.equal(single.code, 0, `one event, the key as username, MQTT 3.1.1 ${single.stderr}`);
  const array = await mosquittoPub(port, [
    '-V', '5', '-q', '1', '-u', 'boiler-1', '-P', apiKey, '-t', 'v1/devices/boiler-1/telemetry',
    '-m', JSON.stringify([{ ts: BASE + 60_000, values: { temp: 62 } }, { ts: BASE + 120_000, values: { temp: 63.25 } }]),
  ]);
  t.equal(array.code, 0, `an array of ThingsBoard events, the key as password, MQTT 5 ${array.stderr}`);

  const latest = await read.get('/v1/devices/boiler-1?consistency=strong');
  t.equal(latest.status, 200);
  t.same(latest.body.values, { temp: 63.25, burner: 'on' }, 'the newest value of each key');
  const history = await eventually(() => read.get('/v1/devices/boiler-1/events?limit=10&consistency=strong'), (answer) => answer.body?.items?.length === 3);
  t.equal(history.status, 200);
  t.same(history.body.items.map((item: { values: { temp: number } }) => item.values.temp).sort(), [61.5, 62, 63.25], 'three events in history');

  const bound = await issueApiKey(db, tenant, { scope: 'write', device: 'thermostat-7' });
  const thingsboard = await mosquittoPub(port, ['-q', '1', '-u', bound?.apiKey as string, '-t', 'v1/devices/me/telemetry', '-m', '{"temperature":19.5,"mode":"eco"}']);
  t.equal(thingsboard.code, 0, `a ThingsBoard device: device-bound key as username, v1/devices/me/telemetry ${thingsboard.stderr}`);
  const thermostat = await read.get('/v1/devices/thermostat-7?consistency=strong');
  t.same(thermostat.body.values, { temperature: 19.5, mode: 'eco' });

  const badKey = await mosquittoPub(port, ['-q', '1', '-u', `sk_${'x'.repeat(43)}`, '-t', 'v1/devices/boiler-1/telemetry', '-m', '{"v":1}']);
  t.not(badKey.code, 0, 'a bad key fails');
  t.match(badKey.stderr, /not authori[sz]ed/i, 'refused at CONNECT: not authorised (return code 5)');
  const badKey5 = await mosquittoPub(port, ['-V', '5', '-q', '1', '-u', `sk_${'x'.repeat(43)}`, '-t', 'v1/devices/boiler-1/telemetry', '-m', '{"v":1}']);
  t.match(badKey5.stderr, /bad user ?name or password/i, 'MQTT 5: bad user name or password (0x86)');
  t.equal((await read.get('/v1/devices/boiler-1/events?limit=10&consistency=strong')).body.items.length, 3, 'nothing more stored');
});
