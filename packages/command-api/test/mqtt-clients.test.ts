import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import mqtt from 'mqtt';
import { createRedis, publishKeyRevocation, revokeApiKey, createLogger } from '@strata/core';
import type { Teardownable } from '@strata/testkit';
import { RawMqttClient, startMqttTestApp, startSecondInstance } from './mqtt-harness.ts';

/* The MQTT listener as the mqtt npm package (MQTT.js) sees it, over MQTT 5 and 3.1.1. */
const BASE = Date.now() - 3_600_000;
type Version = 4 | 5;

t.test('MQTT with the mqtt npm package', async (t) => {
  const ctx = await startMqttTestApp(t);
  const open = async (t: Teardownable, version: Version, options: mqtt.IClientOptions = {}): Promise<mqtt.MqttClient> => {
    const client = await mqtt.connectAsync(ctx.url, { protocolVersion: version, reconnectPeriod: 0, connectTimeout: 5000, username: 'device', password: ctx.tenant.apiKey, ...options });
    t.teardown(() => client.endAsync(true));
    return client;
  };
  const refusedAt = async (version: Version, options: mqtt.IClientOptions): Promise<number | undefined> => {
    try {
      const client = await mqtt.connectAsync(ctx.url, { protocolVersion: version, reconnectPeriod: 0, connectTimeout: 5000, ...options });
      await client.endAsync(true);
      return undefined;
    } catch (error) {
      return (error as { code?: number }).code;
    }
  };
  /** Resolves once the client's connection is closed by the server (3.1.1 refusals). */
  const closedBy = (client: mqtt.MqttClient): Promise<void> => new Promise((resolve) => client.once('close', () => resolve()));

  for (const version of [5, 4] as Version[]) {
    t.test(`MQTT ${version === 5 ? '5' : '3.1.1'}`, async (t) => {
      t.test('QoS 1: the PUBACK comes once the events are staged', async (t) => {
        const client = await open(t, version);
        const device = `dev-v${version}`;
        const ack = await client.publishAsync(`v1/devices/${device}/telemetry`, JSON.stringify({ ts: BASE, values: { temp: 21.5, ok: true } }), { qos: 1 });
        if (version === 5) t.equal((ack as { reasonCode?: number } | undefined)?.reasonCode ?? 0, 0, 'PUBACK success');
        t.same(await ctx.staged(device), [{ ms: BASE, values: { temp: 21.5, ok: true } }]);
        await client.publishAsync(`v1/devices/${device}/telemetry`, JSON.stringify([{ ts: BASE + 1000, values: { temp: 22 } }, { ts: BASE + 2000, values: { temp: 23 } }]), { qos: 1 });
        t.equal((await ctx.staged(device)).length, 3, 'an array of ThingsBoard events');
      });

      t.test('the key as username with an empty password (ThingsBoard), and every HTTP body form', async (t) => {
        const client = await open(t, version, { username: ctx.tenant.apiKey, password: undefined });
        const device = `forms-v${version}`;
        const topic = `v1/devices/${device}/telemetry`;
        await client.publishAsync(topic, JSON.stringify({ device, id: 'a', ts: new Date(BASE).toISOString(), values: { n: 1 } }), { qos: 1 });
        await client.publishAsync(topic, JSON.stringify({ events: [{ ts: BASE + 1, values: { n: 2 } }] }), { qos: 1 });
        await client.publishAsync(topic, `{"ts":${BASE + 2},"values":{"n":3}}\n{"timestamp":${BASE + 3},"n":4}\n`, { qos: 1 });
        const before = Date.now();
        await client.publishAsync(topic, JSON.stringify({ temperature: 25, status: 'ok' }), { qos: 1 });
        const rows = await ctx.staged(device);
        t.same(rows.map((row) => row.values), [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }, { temperature: 25, status: 'ok' }]);
        const flat = rows[4]?.ms ?? 0;
        t.ok(flat >= before - 5 && flat <= Date.now() + 5, 'a flat object takes the arrival time');
      });

      t.test('labels in a JSON payload are staged with their events; bad labels store nothing', async (t) => {
        const client = await open(t, version);
        const device = `labelled-v${version}`;
        const topic = `v1/devices/${device}/telemetry`;
        await client.publishAsync(topic, JSON.stringify({ ts: BASE, values: { people: 1 }, labels: { space: 'lobby' } }), { qos: 1 });
        await client.publishAsync(topic, JSON.stringify({ ts: BASE + 1, people: -1, labels: { space: 'hall', floor: '2' } }), { qos: 1 });
        const labelsOf = async () =>
          (await ctx.db.query('SELECT "values", labels FROM staging_events WHERE device = $1 ORDER BY ts', [device])).rows;
        t.same(await labelsOf(), [
          { values: { people: 1 }, labels: { space: 'lobby' } },
          { values: { people: -1 }, labels: { space: 'hall', floor: '2' } },
        ], 'the flat form too: labels is the label map, never a value');
        const bad = JSON.stringify([{ ts: BASE + 2, values: { people: 1 } }, { ts: BASE + 3, values: { people: 1 }, labels: { space: 'x'.repeat(129) } }]);
        if (version === 5) {
          const error = await client.publishAsync(topic, bad, { qos: 1 }).then(() => undefined, (e: { code?: number }) => e);
          t.equal(error?.code, 0x99, 'PUBACK 0x99 payload format invalid');
        } else {
          const closed = closedBy(client);
          client.publish(topic, bad, { qos: 1 });
          await closed;
        }
        t.equal((await labelsOf()).length, 2, 'nothing of the bad message is stored');
      });

      t.test('QoS 0 takes the same path, unacknowledged', async (t) => {
        const client = await open(t, version);
        await client.publishAsync(`v1/devices/q0-v${version}/telemetry`, JSON.stringify({ ts: BASE, values: { v: 0 } }), { qos: 0 });
        const deadline = Date.now() + 5000;
        while ((await ctx.staged(`q0-v${version}`)).length === 0 && Date.now() < deadline) await sleep(20);
        t.equal((await ctx.staged(`q0-v${version}`)).length, 1);
      });

      t.test('a bad key, no key or a read key is refused at CONNECT', async (t) => {
        const badKey = `sk_${'A'.repeat(43)}`;
        const read = await ctx.issueKey('read');
        if (version === 5) {
          t.equal(await refusedAt(5, { username: 'd', password: badKey }), 0x86, 'bad user name or password');
          t.equal(await refusedAt(5, {}), 0x86, 'no key');
          t.equal(await refusedAt(5, { username: read.apiKey }), 0x87, 'not authorized: a read key');
        } else {
          t.equal(await refusedAt(4, { username: 'd', password: badKey }), 5, 'return code 5');
          t.equal(await refusedAt(4, {}), 5, 'no key');
          t.equal(await refusedAt(4, { username: read.apiKey }), 5, 'a read key');
        }
      });

      t.test('a bad payload stores nothing', async (t) => {
        const client = await open(t, version);
        const device = `bad-v${version}`;
        const payload = JSON.stringify([{ ts: BASE, values: { ok: 1 } }, { ts: BASE, values: { nested: { no: 1 } } }]);
        if (version === 5) {
          const error = await client.publishAsync(`v1/devices/${device}/telemetry`, payload, { qos: 1 }).then(() => undefined, (e: { code?: number }) => e);
          t.equal(error?.code, 0x99, 'PUBACK 0x99 payload format invalid');
          t.ok(client.connected, 'the connection goes on');
          await client.publishAsync(`v1/devices/${device}/telemetry`, JSON.stringify({ ts: BASE, values: { ok: 2 } }), { qos: 1 });
          t.same((await ctx.staged(device)).map((row) => row.values), [{ ok: 2 }], 'only the good message after it');
        } else {
          const closed = closedBy(client);
          client.publish(`v1/devices/${device}/telemetry`, payload, { qos: 1 });
          await closed;
          t.pass('3.1.1 has no negative PUBACK: the connection is closed');
          t.same(await ctx.staged(device), []);
        }
      });

      t.test('topics other than v1/devices/<device>/telemetry are refused', async (t) => {
        const client = await open(t, version);
        if (version === 5) {
          for (const topic of ['v1/devices/me/telemetry', 'v1/devices/x/attributes', 'v1/devices/../telemetry', 'telemetry']) {
            const error = await client.publishAsync(topic, '{"v":1}', { qos: 1 }).then(() => undefined, (e: { code?: number }) => e);
            t.equal(error?.code, 0x90, `${topic}: topic name invalid`);
          }
        } else {
          const closed = closedBy(client);
          client.publish('v1/devices/x/attributes', '{"v":1}', { qos: 1 });
          await closed;
          t.pass('closed');
        }
      });

      t.test('a device-bound key: v1/devices/me/telemetry is its device; another device is refused', async (t) => {
        const bound = await ctx.issueKey('write', `tb-v${version}`);
        const client = await open(t, version, { username: bound.apiKey, password: undefined });
        await client.publishAsync('v1/devices/me/telemetry', JSON.stringify({ temperature: 20 }), { qos: 1 });
        await client.publishAsync(`v1/devices/tb-v${version}/telemetry`, JSON.stringify({ temperature: 21 }), { qos: 1 });
        t.same((await ctx.staged(`tb-v${version}`)).map((row) => row.values), [{ temperature: 20 }, { temperature: 21 }]);
        const other = `other-v${version}`;
        if (version === 5) {
          const error = await client.publishAsync(`v1/devices/${other}/telemetry`, '{"v":1}', { qos: 1 }).then(() => undefined, (e: { code?: number }) => e);
          t.equal(error?.code, 0x87, 'not authorized');
          const named = await client.publishAsync('v1/devices/me/telemetry', JSON.stringify({ device: other, ts: BASE, values: { v: 1 } }), { qos: 1 }).then(() => undefined, (e: { code?: number }) => e);
          t.equal(named?.code, 0x99, 'an event naming another device than its topic');
        } else {
          const closed = closedBy(client);
          client.publish(`v1/devices/${other}/telemetry`, '{"v":1}', { qos: 1 });
          await closed;
        }
        t.same(await ctx.staged(other), [], 'nothing stored as the other device');
      });

      t.test('SUBSCRIBE is answered with a failure', async (t) => {
        const client = await open(t, version);
        // subscribeAsync rejects with the SUBACK itself (ErrorWithSubackPacket).
        const code = await client.subscribeAsync('v1/devices/+/telemetry', { qos: 1 }).then(() => -1, (e: { packet?: { granted?: number[] } }) => e.packet?.granted?.[0]);
        t.equal(code, version === 5 ? 0x87 : 0x80, 'SUBACK failure');
        t.ok(client.connected);
      });
    });
  }

  t.test('a revoked key is disconnected within a second, on every instance', async (t) => {
    const issued = await ctx.issueKey('write');
    const client = await open(t, 5, { username: issued.apiKey, password: undefined });
    await client.publishAsync('v1/devices/rev/telemetry', '{"v":1}', { qos: 1 });
    const other = await startSecondInstance(t, ctx);
    const onOther = await mqtt.connectAsync(other.url, { protocolVersion: 4, reconnectPeriod: 0, username: issued.apiKey });
    t.teardown(() => onOther.endAsync(true));
    await onOther.publishAsync('v1/devices/rev/telemetry', '{"v":2}', { qos: 1 });
    t.equal((await ctx.staged('rev')).length, 2, 'both instances take the key');
    const otherClosed = closedBy(onOther);
    const disconnected = new Promise<number | undefined>((resolve) => client.once('disconnect', (packet) => resolve(packet.reasonCode)));
    const closed = closedBy(client);
    const redis = createRedis(ctx.config.redisUrl, { maxRetriesPerRequest: 1, connectionName: 'test' }, createLogger('test', 'silent'));
    t.teardown(() => redis.quit());
    const started = Date.now();
    await revokeApiKey(ctx.db, issued.keyId);
    await publishKeyRevocation(redis, ctx.config.redisPrefix, issued.keyId);
    t.equal(await disconnected, 0x87, 'DISCONNECT: not authorized');
    await closed;
    await otherClosed;
    t.ok(Date.now() - started < 1000, `both closed after ${Date.now() - started} ms`);
    t.equal(await (async () => {
      try {
        await mqtt.connectAsync(ctx.url, { protocolVersion: 5, reconnectPeriod: 0, username: issued.apiKey });
        return 0;
      } catch (error) {
        return (error as { code?: number }).code;
      }
    })(), 0x86, 'and cannot connect again');
  });

  t.test('a PUBLISH sent right behind CONNECT, before the CONNACK, is taken', async (t) => {
    const client = await RawMqttClient.open(ctx.port, 5);
    t.teardown(() => client.end());
    // One write: the server reads the PUBLISH while it is still verifying the key.
    client.socket.cork();
    client.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'eager', clean: true, keepalive: 30, username: ctx.tenant.apiKey });
    client.publish('v1/devices/eager/telemetry', JSON.stringify({ ts: BASE, values: { v: 1 } }), 7);
    client.socket.uncork();
    t.equal((await client.next('connack') as { reasonCode?: number }).reasonCode, 0);
    t.match(await client.next('puback'), { messageId: 7 });
    t.equal((await ctx.staged('eager')).length, 1);
  });

  t.test('metrics count connections, messages and refusals', async (t) => {
    t.ok((await ctx.metric('strata_mqtt_messages_total', 'outcome="accepted"')) >= 10);
    t.ok((await ctx.metric('strata_mqtt_messages_total', 'outcome="invalid_payload"')) >= 2);
    t.ok((await ctx.metric('strata_mqtt_refusals_total', 'reason="bad_key"')) >= 4);
    t.ok((await ctx.metric('strata_mqtt_refusals_total', 'reason="revoked"')) >= 1);
    // Every client above has closed: both gauges are back to 0 (no connection leaks a count).
    const deadline = Date.now() + 2000;
    while ((await ctx.metric('strata_mqtt_connections')) !== 0 && Date.now() < deadline) await sleep(20);
    t.equal(await ctx.metric('strata_mqtt_connections', 'state="connected"'), 0);
    t.equal(await ctx.metric('strata_mqtt_connections', 'state="connecting"'), 0);
  });
});
