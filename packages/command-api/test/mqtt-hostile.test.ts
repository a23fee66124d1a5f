import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { createTenant } from '@strata/testkit';
import { RawMqttClient, startMqttTestApp } from './mqtt-harness.ts';

/* What no well-behaved client sends, by hand: each is refused alone, stores nothing and costs a bound. */
const BASE = Date.now() - 3_600_000;
const event = (values: Record<string, unknown>) => JSON.stringify({ ts: BASE, values });
const codeOf = (packet: unknown): number | undefined => (packet as { reasonCode?: number } | undefined)?.reasonCode;
const countStaged = async (ctx: { db: { query: (sql: string) => Promise<{ rows: { n: number }[] }> } }): Promise<number> =>
  (await ctx.db.query('SELECT count(*)::int AS n FROM staging_events')).rows[0]?.n ?? 0;

t.test('hostile MQTT input', async (t) => {
  const ctx = await startMqttTestApp(t, { mqttConnectTimeoutMs: 300 });
  const key = ctx.tenant.apiKey;

  t.test('topic injection is refused with 0x90 (MQTT 5) and stores nothing', async (t) => {
    const client = await RawMqttClient.connected(ctx.port, key);
    t.teardown(() => client.end());
    const before = await countStaged(ctx);
    const topics = [
      'v1/devices/../telemetry',
      'v1/devices/./telemetry',
      'v1/devices/+/telemetry',
      'v1/devices/#',
      'v1/devices/#/telemetry',
      'v1/devices//telemetry',
      `v1/devices/${'d'.repeat(200)}/telemetry`,
      'v1/devices/a/b/telemetry',
      'v1/devices/a%2Fb/telemetry',
      '/v1/devices/a/telemetry',
      'v1/devices/a/telemetry/',
      'V1/devices/a/telemetry',
      'v1/devices/a\u0000/telemetry',
      'v1/devices/me/telemetry',
      '$SYS/broker/load',
      'v1/devices/a b/telemetry',
    ];
    for (const [index, topic] of topics.entries()) {
      client.publish(topic, event({ v: index }), index + 1);
      const ack = await client.next('puback');
      t.equal(codeOf(ack), 0x90, `${JSON.stringify(topic).slice(0, 60)}: topic name invalid`);
    }
    t.equal(await countStaged(ctx), before, 'nothing staged');
    client.publish('v1/devices/ok-device/telemetry', event({ v: 1 }), 99);
    t.equal(codeOf(await client.next('puback')), 0, 'the connection still works');
  });

  t.test('a QoS 1 PUBLISH with packet identifier 0 is a protocol error: DISCONNECT 0x82, nothing stored', async (t) => {
    const client = await RawMqttClient.connected(ctx.port, key);
    const before = await countStaged(ctx);
    client.publish('v1/devices/zero-id/telemetry', event({ v: 1 }), 0);
    t.equal(codeOf(await client.next('disconnect')), 0x82);
    t.ok(await client.closedWithin(3000), 'closed');
    t.equal(client.packets.filter((packet) => packet.cmd === 'puback').length, 0, 'no PUBACK');
    t.equal(await countStaged(ctx), before, 'nothing staged');
  });

  t.test('MQTT 3.1.1: a refused topic closes the connection', async (t) => {
    const client = await RawMqttClient.connected(ctx.port, key, 4);
    client.publish('v1/devices/+/telemetry', event({ v: 1 }));
    t.ok(await client.closedWithin(3000), 'closed');
    t.equal(client.packets.filter((packet) => packet.cmd === 'puback').length, 0, 'no PUBACK');
  });

  t.test('a device-bound key publishing to another device is refused', async (t) => {
    const bound = await ctx.issueKey('write', 'meter-1');
    const five = await RawMqttClient.connected(ctx.port, bound.apiKey);
    t.teardown(() => five.end());
    five.publish('v1/devices/meter-2/telemetry', event({ v: 1 }));
    t.equal(codeOf(await five.next('puback')), 0x87, 'MQTT 5: not authorized');
    five.publish('v1/devices/me/telemetry', JSON.stringify({ events: [{ device: 'meter-1', ts: BASE, values: { v: 1 } }, { device: 'meter-2', ts: BASE, values: { v: 2 } }] }), 2);
    t.equal(codeOf(await five.next('puback')), 0x99, 'an event in the payload naming another device');
    const four = await RawMqttClient.connected(ctx.port, bound.apiKey, 4);
    four.publish('v1/devices/meter-2/telemetry', event({ v: 1 }));
    t.ok(await four.closedWithin(3000), 'MQTT 3.1.1: closed');
    t.same(await ctx.staged('meter-2'), []);
    t.same(await ctx.staged('meter-1'), []);
  });

  t.test('payloads that are no events: 0x99, nothing stored', async (t) => {
    const client = await RawMqttClient.connected(ctx.port, key);
    t.teardown(() => client.end());
    const before = await countStaged(ctx);
    const deep = `{"ts":${BASE},"values":${'['.repeat(40_000)}${']'.repeat(40_000)}}`;
    const payloads: [string, string | Buffer][] = [
      ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0x76, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d])],
      ['U+0000 in a value', event({ s: 'a\u0000b' })],
      ['a lone surrogate', `{"ts":${BASE},"values":{"s":"\\ud800"}}`],
      ['1e400', `{"ts":${BASE},"values":{"v":1e400}}`],
      ['a nested value', event({ v: { w: 1 } })],
      ['not JSON', 'temperature=25'],
      ['empty', ''],
      ['a JSON string', '"hello"'],
      ['nested 40,000 deep', deep],
      ['one bad event of two', JSON.stringify([{ ts: BASE, values: { v: 1 } }, { ts: 'yesterday', values: { v: 2 } }])],
      ['too far ahead', JSON.stringify({ ts: Date.now() + 10 * 3_600_000, values: { v: 1 } })],
      ['too many events', JSON.stringify(Array.from({ length: 10_001 }, () => ({ v: 1 })))],
    ];
    for (const [index, [what, payload]] of payloads.entries()) {
      client.publish('v1/devices/hostile/telemetry', payload, index + 1);
      t.equal(codeOf(await client.next('puback')), 0x99, `${what}: payload format invalid`);
    }
    t.equal(await countStaged(ctx), before, 'nothing staged');
  });

  t.test('a payload over MAX_BODY_BYTES is refused; a packet over the limit ends the connection unread', async (t) => {
    const client = await RawMqttClient.connected(ctx.port, key);
    client.publish('v1/devices/big/telemetry', Buffer.alloc(ctx.config.maxBodyBytes + 10, 0x20));
    t.equal(codeOf(await client.next('puback', 15_000)), 0x99, 'PUBACK 0x99 for a payload past MAX_BODY_BYTES');
    const refusedBefore = await ctx.metric('strata_mqtt_refusals_total', 'reason="packet_too_large"');
    client.publish('v1/devices/big/telemetry', Buffer.alloc(8 * 1024 * 1024, 0x20), 2);
    const disconnect = await client.next('disconnect', 15_000);
    t.equal(codeOf(disconnect), 0x95, 'DISCONNECT 0x95 packet too large');
    t.ok(await client.closedWithin(5000), 'closed');
    t.equal(await ctx.metric('strata_mqtt_refusals_total', 'reason="packet_too_large"'), refusedBefore + 1);
    const four = await RawMqttClient.connected(ctx.port, key, 4);
    four.publish('v1/devices/big/telemetry', Buffer.alloc(8 * 1024 * 1024, 0x20));
    t.ok(await four.closedWithin(15_000), 'MQTT 3.1.1: closed');
    t.same(await ctx.staged('big'), []);
  });

  t.test('a client that never sends CONNECT, or sends half of one, is closed at the deadline', async (t) => {
    const silent = await RawMqttClient.open(ctx.port);
    const slow = await RawMqttClient.open(ctx.port);
    slow.socket.write(Buffer.from([0x10, 0x40, 0x00, 0x04]));
    const started = Date.now();
    t.ok(await silent.closedWithin(3000), 'silent: closed');
    t.ok(await slow.closedWithin(3000), 'half a CONNECT: closed');
    t.ok(Date.now() - started >= 250, `not before the deadline (${Date.now() - started} ms)`);
    t.ok((await ctx.metric('strata_mqtt_refusals_total', 'reason="connect_timeout"')) >= 2);
  });

  t.test('protocol breaches end the connection', async (t) => {
    const early = await RawMqttClient.open(ctx.port);
    early.publish('v1/devices/x/telemetry', event({ v: 1 }));
    t.ok(await early.closedWithin(3000), 'PUBLISH before CONNECT: closed');

    const version6 = await RawMqttClient.open(ctx.port);
    version6.socket.write(Buffer.from([0x10, 0x0d, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x06, 0x02, 0x00, 0x3c, 0x00, 0x01, 0x78]));
    const answer = await new Promise<Buffer>((resolve) => version6.socket.once('data', resolve));
    t.same([...answer], [0x20, 0x02, 0x00, 0x01], 'unknown protocol version: CONNACK 1 (unacceptable protocol version)');
    t.ok(await version6.closedWithin(3000));

    const qos2 = await RawMqttClient.connected(ctx.port, key);
    qos2.publish('v1/devices/q2/telemetry', event({ v: 1 }), 1, 2);
    t.equal(codeOf(await qos2.next('disconnect')), 0x9b, 'QoS 2: DISCONNECT 0x9B QoS not supported');
    t.ok(await qos2.closedWithin(3000));
    const qos2v4 = await RawMqttClient.connected(ctx.port, key, 4);
    qos2v4.publish('v1/devices/q2/telemetry', event({ v: 1 }), 1, 2);
    t.ok(await qos2v4.closedWithin(3000), 'QoS 2 over 3.1.1: closed');
    t.same(await ctx.staged('q2'), []);

    const alias = await RawMqttClient.connected(ctx.port, key);
    alias.send({ cmd: 'publish', topic: 'v1/devices/a/telemetry', payload: event({ v: 1 }), qos: 1, messageId: 1, dup: false, retain: false, properties: { topicAlias: 1 } });
    t.equal(codeOf(await alias.next('disconnect')), 0x94, 'a topic alias: DISCONNECT 0x94');

    const garbage = await RawMqttClient.connected(ctx.port, key);
    garbage.socket.write(Buffer.from([0x00, 0x00]));
    t.equal(codeOf(await garbage.next('disconnect')), 0x81, 'a reserved packet type: DISCONNECT 0x81 malformed packet');
    t.ok(await garbage.closedWithin(3000));
  });

  t.test('a slow reader is cut off by the keep-alive; what it sent is stored', async (t) => {
    const client = await RawMqttClient.connected(ctx.port, key, 5, 1);
    const cutBefore = await ctx.metric('strata_mqtt_refusals_total', 'reason="keepalive_timeout"');
    client.socket.pause();
    for (let i = 1; i <= 300; i++) client.publish('v1/devices/slow-reader/telemetry', JSON.stringify({ id: `s${i}`, ts: BASE + i, values: { v: i } }), i);
    const deadline = Date.now() + 6000;
    while ((await ctx.metric('strata_mqtt_refusals_total', 'reason="keepalive_timeout"')) === cutBefore && Date.now() < deadline) await sleep(100);
    t.equal(await ctx.metric('strata_mqtt_refusals_total', 'reason="keepalive_timeout"'), cutBefore + 1, 'cut off after 1.5 keep-alive periods of silence');
    t.equal((await ctx.staged('slow-reader')).length, 300, 'every message it sent was stored');
    client.socket.resume();
    t.ok(await client.closedWithin(3000), 'its socket is closed');
    t.equal(client.packets.filter((packet) => packet.cmd === 'puback').length, 300, 'and its PUBACKs were waiting for it');
    t.equal(codeOf(client.packets.find((packet) => packet.cmd === 'disconnect')), 0x8d, 'DISCONNECT 0x8D keep alive timeout');
  });

  t.test('PINGREQ keeps a connection alive past its keep-alive', async (t) => {
    const client = await RawMqttClient.connected(ctx.port, key, 5, 1);
    t.teardown(() => client.end());
    for (let i = 0; i < 5; i++) {
      await sleep(700);
      client.send({ cmd: 'pingreq' });
      t.ok(await client.next('pingresp'), `PINGRESP ${i + 1}`);
    }
    t.notOk(client.socket.destroyed, 'still open after 3.5 s');
  });
});

t.test('connection caps and the tenant rate', async (t) => {
  const ctx = await startMqttTestApp(t, { mqttMaxConnections: 3, mqttMaxConnectionsPerTenant: 2, ingestRateLimitEventsPerSecond: 5 });
  const other = await createTenant(ctx.db, 'other tenant');
  const first = await RawMqttClient.connected(ctx.port, ctx.tenant.apiKey);
  const second = await RawMqttClient.connected(ctx.port, ctx.tenant.apiKey);
  t.teardown(() => {
    first.end();
    second.end();
  });
  const third = await RawMqttClient.open(ctx.port);
  third.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'c3', clean: true, keepalive: 60, username: 'c3', password: Buffer.from(ctx.tenant.apiKey) });
  t.equal(codeOf(await third.next('connack')), 0x97, 'past MQTT_MAX_CONNECTIONS_PER_TENANT: CONNACK 0x97 quota exceeded');
  t.ok(await third.closedWithin(3000));
  while ((ctx.running.mqtt?.connectionCount ?? 0) > 2) await sleep(10);
  const neighbour = await RawMqttClient.connected(ctx.port, other.apiKey);
  t.teardown(() => neighbour.end());
  t.pass('another tenant still connects');
  const fourth = await RawMqttClient.open(ctx.port);
  fourth.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'c4', clean: true, keepalive: 60, username: 'c4', password: Buffer.from(other.apiKey) });
  t.equal(codeOf(await fourth.next('connack')), 0x89, 'past MQTT_MAX_CONNECTIONS authenticated connections: CONNACK 0x89 server busy');
  t.ok(await fourth.closedWithin(3000));
  t.equal(await ctx.metric('strata_mqtt_refusals_total', 'reason="connection_cap"'), 1);

  // A tenant without a backlog may send one message of any size; it then owes the rate for it.
  const batch = (from: number) => JSON.stringify(Array.from({ length: 20 }, (_, i) => ({ ts: BASE + from + i, values: { v: i } })));
  first.publish('v1/devices/rated/telemetry', batch(0), 1);
  t.equal(codeOf(await first.next('puback')), 0, 'the first message is taken');
  first.publish('v1/devices/rated/telemetry', batch(100), 2);
  t.equal(codeOf(await first.next('puback')), 0x97, 'over the tenant rate: PUBACK 0x97 quota exceeded');
  t.equal((await ctx.staged('rated')).length, 20, 'nothing of the refused message stored');
  // The refused client is not read until the rate allows more (retry-after, at least a second): a
  // flood waits in its TCP window rather than being parsed and refused on the shared cores.
  first.publish('v1/devices/rated/telemetry', batch(200), 3);
  await t.rejects(first.next('puback', 500), /no puback within 500 ms/, 'the next message is not even read for a while');
  t.ok(await first.next('puback', 10_000), 'then it is read and answered');
  t.notOk(first.socket.destroyed, 'the connection stays open throughout');
});

t.test('byte rate: an invalid payload is charged, and a tenant over its rate is refused before its payload is read (decision 0124)', async (t) => {
  const ctx = await startMqttTestApp(t, { ingestRateLimitBytesPerSecond: 2000 });
  const client = await RawMqttClient.connected(ctx.port, ctx.tenant.apiKey);
  t.teardown(() => client.end());
  const padded = (bytes: number, from: number) => {
    const bare = JSON.stringify({ ts: BASE + from, values: { s: '' } });
    return JSON.stringify({ ts: BASE + from, values: { s: 'x'.repeat(bytes - bare.length) } });
  };
  client.publish('v1/devices/charged/telemetry', `{"values":${'x'.repeat(1900)}`, 1);
  t.equal(codeOf(await client.next('puback')), 0x99, 'not JSON: PUBACK 0x99 as ever');
  // The charge of a refused payload is not waited for: give it its round trip.
  await sleep(200);
  client.publish('v1/devices/charged/telemetry', padded(1500, 1), 2);
  t.equal(codeOf(await client.next('puback')), 0x97, "the invalid payload's 1,900 bytes were charged: 1,500 more are over the second");
  t.equal((await ctx.staged('charged')).length, 0, 'nothing stored');
  const neighbour = await createTenant(ctx.db, 'byte-rate neighbour');
  const other = await RawMqttClient.connected(ctx.port, neighbour.apiKey);
  t.teardown(() => other.end());
  other.publish('v1/devices/other/telemetry', padded(1500, 2), 1);
  t.equal(codeOf(await other.next('puback')), 0, "the neighbour's budget is its own");
});

t.test('byte rate: a payload on a topic refused is charged as well (hostile review of decision 0126)', async (t) => {
  const ctx = await startMqttTestApp(t, { ingestRateLimitBytesPerSecond: 2000 });
  const client = await RawMqttClient.connected(ctx.port, ctx.tenant.apiKey);
  t.teardown(() => client.end());
  client.publish('not/a/telemetry/topic', JSON.stringify({ ts: BASE, values: { s: 'x'.repeat(1850) } }), 1);
  t.not(codeOf(await client.next('puback')), 0, 'refused for its topic');
  await sleep(200);
  client.publish('v1/devices/t/telemetry', JSON.stringify({ ts: BASE + 1, values: { s: 'x'.repeat(1450) } }), 2);
  t.equal(codeOf(await client.next('puback')), 0x97, 'its ~1,900 bytes were charged: 1,500 more are over the second');
});
