import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { createTenant } from '@strata/testkit';
import { RawMqttClient, startMqttTestApp } from './mqtt-harness.ts';

/*
 * Hostile review of issue 12 (confirmed on a running stack): sockets that never send CONNECT hold
 * slots of MQTT_MAX_CONNECTIONS until MQTT_CONNECT_TIMEOUT_MS, and re-opened as soon as they are cut
 * they hold every slot for good. Someone with no key at all then denies MQTT to every tenant's
 * devices (SPEC: one tenant's input never fails another's; a keyless client is not even a tenant).
 * What a valid device must see: its CONNACK, whatever unauthenticated sockets are open.
 */
t.test('sockets that never CONNECT do not lock valid devices out of MQTT_MAX_CONNECTIONS', async (t) => {
  const cap = 4;
  const ctx = await startMqttTestApp(t, { mqttMaxConnections: cap, mqttConnectTimeoutMs: 10_000 });
  const device = await createTenant(ctx.db, 'a tenant whose devices must still connect');
  const squatters = await Promise.all(Array.from({ length: cap }, () => RawMqttClient.open(ctx.port)));
  t.teardown(() => squatters.forEach((socket) => socket.end()));

  const client = await RawMqttClient.open(ctx.port);
  t.teardown(() => client.end());
  client.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'valid', clean: true, keepalive: 60, username: 'valid', password: Buffer.from(device.apiKey) });
  const connack = (await client.next('connack', 3000)) as { reasonCode?: number } | undefined;
  t.equal(connack?.reasonCode, 0, `a device with a valid key is connected while ${cap} keyless sockets sit silent`);
  t.notOk(client.socket.destroyed, 'and stays connected');
});

t.test('past MQTT_MAX_PENDING_CONNECTIONS the oldest silent socket gives way to the newest', async (t) => {
  const ctx = await startMqttTestApp(t, { mqttMaxPendingConnections: 3, mqttConnectTimeoutMs: 10_000 });
  const device = await createTenant(ctx.db, 'a tenant whose devices must still connect');
  const squatters = await Promise.all(Array.from({ length: 3 }, () => RawMqttClient.open(ctx.port)));
  t.teardown(() => squatters.forEach((socket) => socket.end()));
  // Only a socket silent past the grace (1 s) gives way: one that has just arrived never does.
  const early = await RawMqttClient.open(ctx.port);
  t.ok(await early.closedWithin(2000), 'a fourth socket arriving while all three are fresh is refused');
  t.notOk(squatters[0]?.socket.destroyed, 'and no fresh socket was evicted for it');
  await sleep(1200);
  const client = await RawMqttClient.open(ctx.port);
  t.teardown(() => client.end());
  t.ok(await squatters[0]?.closedWithin(2000), 'the oldest keyless socket was closed to make room');
  t.notOk(squatters[2]?.socket.destroyed, 'the others still wait for their deadline');
  client.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'valid', clean: true, keepalive: 60, username: 'valid', password: Buffer.from(device.apiKey) });
  const connack = (await client.next('connack', 3000)) as { reasonCode?: number } | undefined;
  t.equal(connack?.reasonCode, 0, 'the device that came last, with a key, is connected');
  t.equal(await ctx.metric('strata_mqtt_refusals_total', 'reason="pending_evicted"'), 1);
  t.equal(await ctx.metric('strata_mqtt_refusals_total', 'reason="pending_cap"'), 1);
});
