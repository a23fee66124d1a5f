import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { systemClock } from '@strata/core';
import { createTenant, freePort, type Teardownable } from '@strata/testkit';
import { writeBatch } from '../src/ingest/batch-writer.ts';
import { GroupCommitter } from '../src/ingest/group-committer.ts';
import { JSON_BYTES_PER_CHAR } from '../src/ingest/held-bytes.ts';
import { isLargeRequest } from '../src/ingest/large-body-lane.ts';
import { LARGE_BODY_LANE } from '../src/deps.ts';
import { MqttListener } from '../src/transports/mqtt/mqtt-listener.ts';
import { RawMqttClient, startMqttTestApp, type MqttTestContext } from './mqtt-harness.ts';

/* Backpressure and shutdown, with a group committer whose writes wait until the test lets them go. */
const BASE = Date.now() - 3_600_000;

async function startHeldListener(t: Teardownable, ctx: MqttTestContext, pauseAtHeldEvents: number, pauseAtTenantHeldEvents = pauseAtHeldEvents) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const { pool, queue, logger, metrics } = ctx.deps;
  const committer = new GroupCommitter(
    async (batchId, events, acceptedAt) => {
      await released;
      await writeBatch({ pool, queue, logger, attempts: 1 }, batchId, events, acceptedAt);
    },
    { maxBatchEvents: 1000, maxBatchBytes: 1e9, maxWaitMs: 1, writesInFlight: 2, maxHeldEvents: 100_000, maxHeldEventsPerTenant: 100_000 },
    systemClock,
    logger,
    metrics,
  );
  t.teardown(() => committer.stop());
  const port = await freePort();
  const listener = new MqttListener({ ...ctx.deps, committer, config: { ...ctx.deps.config, mqttPort: port } }, { pauseAtHeldEvents, pauseAtTenantHeldEvents, closeGraceMs: 30_000 });
  await listener.start();
  t.teardown(() => listener.stop());
  return { listener, committer, port, release };
}

const message = (n: number) => JSON.stringify({ id: `m${n}`, ts: BASE + n, values: { n } });
const codeOf = (packet: unknown): number | undefined => (packet as { reasonCode?: number } | undefined)?.reasonCode;

t.test('MQTT listener lifecycle', async (t) => {
  const ctx = await startMqttTestApp(t);

  t.test('a saturated group committer stops the sockets being read; nothing is refused, nothing piles up', async (t) => {
    const { committer, port, release } = await startHeldListener(t, ctx, 10);
    const client = await RawMqttClient.connected(port, ctx.tenant.apiKey, 5, 1);
    t.teardown(() => client.end());
    for (let n = 1; n <= 10; n++) client.publish('v1/devices/pressed/telemetry', message(n), n);
    while (committer.heldEvents < 10) await sleep(10);
    // One message at a time from here, so each arrives in a read of its own.
    for (let n = 11; n <= 50; n++) {
      client.publish('v1/devices/pressed/telemetry', message(n), n);
      await sleep(20);
    }
    await sleep(1500);
    t.ok(committer.heldEvents <= 12, `the committer holds ${committer.heldEvents} events, not 50: the rest wait unread`);
    t.equal(client.packets.length, 0, 'nothing answered yet, nothing refused');
    t.notOk(client.socket.destroyed, 'not cut off by its 1 s keep-alive while we are not reading it');
    release();
    const acks = [];
    for (let n = 1; n <= 50; n++) acks.push(await client.next('puback', 10_000));
    t.same(acks.map((ack) => (ack as { messageId: number }).messageId), Array.from({ length: 50 }, (_, i) => i + 1), 'every PUBACK, in order');
    t.ok(acks.every((ack) => (codeOf(ack) ?? 0) === 0), 'all successes');
    t.equal((await ctx.staged('pressed')).length, 50);
  });

  t.test("one tenant past its share of the committer has its own sockets paused, not its neighbour's (decision 0122)", async (t) => {
    const { committer, port, release } = await startHeldListener(t, ctx, 1000, 10);
    const neighbour = await createTenant(ctx.db, 'mqtt neighbour');
    const busy = await RawMqttClient.connected(port, ctx.tenant.apiKey, 5, 1);
    const quiet = await RawMqttClient.connected(port, neighbour.apiKey, 4, 1);
    t.teardown(() => busy.end());
    t.teardown(() => quiet.end());
    for (let n = 1; n <= 10; n++) busy.publish('v1/devices/busy/telemetry', message(300 + n), n);
    while (committer.heldEventsOf(ctx.tenant.tenant) < 10) await sleep(10);
    for (let n = 11; n <= 40; n++) {
      busy.publish('v1/devices/busy/telemetry', message(300 + n), n);
      await sleep(20);
    }
    // The neighbour publishes after the busy tenant is paused: its messages are still read.
    for (let n = 1; n <= 8; n++) quiet.publish('v1/devices/quiet/telemetry', message(400 + n), n);
    const deadline = Date.now() + 5000;
    while (committer.heldEventsOf(neighbour.tenant) < 8 && Date.now() < deadline) await sleep(10);
    t.equal(committer.heldEventsOf(neighbour.tenant), 8, "every one of the neighbour's messages reached the committer");
    t.ok(committer.heldEventsOf(ctx.tenant.tenant) <= 12, `the busy tenant has ${committer.heldEventsOf(ctx.tenant.tenant)} events held, not 40: the rest wait unread`);
    t.equal(busy.packets.length + quiet.packets.length, 0, 'nothing answered yet, nothing refused');
    release();
    const busyAcks = [];
    for (let n = 1; n <= 40; n++) busyAcks.push(await busy.next('puback', 10_000));
    const quietAcks = [];
    for (let n = 1; n <= 8; n++) quietAcks.push(await quiet.next('puback', 10_000));
    t.ok([...busyAcks, ...quietAcks].every((ack) => (codeOf(ack) ?? 0) === 0), 'then every message of both is acknowledged');
    t.equal((await ctx.staged('busy')).length, 40);
    t.equal((await ctx.staged('quiet')).length, 8);
  });

  t.test('a large payload waits for its turn in the large-body lane, as an HTTP body does (decision 0123)', async (t) => {
    const lane = ctx.deps.largeBodies;
    // Someone else's request of the whole capacity is being processed.
    const held = await lane.enter('someone else', LARGE_BODY_LANE.capacityBytes);
    const client = await RawMqttClient.connected(ctx.port, ctx.tenant.apiKey, 5);
    t.teardown(() => client.end());
    const payload = JSON.stringify({ id: 'big', ts: BASE, values: Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`s${i}`, 'y'.repeat(60_000)])) });
    t.ok(isLargeRequest(payload.length * JSON_BYTES_PER_CHAR), 'a large payload');
    client.publish('v1/devices/lane/telemetry', payload, 1);
    const deadline = Date.now() + 5000;
    while (lane.waiting < 1 && Date.now() < deadline) await sleep(10);
    t.equal(lane.waiting, 1, 'it waits');
    t.equal(client.packets.length, 0, 'unanswered meanwhile');
    held();
    t.equal(codeOf(await client.next('puback', 10_000)) ?? 0, 0, 'then it is stored and acknowledged');
    t.equal((await ctx.staged('lane')).length, 1);
    t.same([lane.processing, lane.waiting], [0, 0]);
  });

  t.test('stop(): no new connections; messages in hand are stored and acknowledged; then DISCONNECT 0x8B and close', async (t) => {
    const { listener, committer, port, release } = await startHeldListener(t, ctx, 1000);
    const five = await RawMqttClient.connected(port, ctx.tenant.apiKey, 5);
    const four = await RawMqttClient.connected(port, ctx.tenant.apiKey, 4);
    for (let n = 1; n <= 5; n++) five.publish('v1/devices/stopping/telemetry', message(100 + n), n);
    for (let n = 1; n <= 5; n++) four.publish('v1/devices/stopping/telemetry', message(200 + n), n);
    while (committer.heldEvents < 10) await sleep(10);

    let stopped = false;
    const stopping = listener.stop().then(() => (stopped = true));
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
    t.ok(refused, 'new connections are refused at once');
    await sleep(300);
    t.notOk(stopped, 'stop() waits for the messages in hand');
    t.notOk(five.socket.destroyed || four.socket.destroyed, 'their connections stay open meanwhile');
    release();
    await stopping;
    t.same(five.packets.map((packet) => [packet.cmd, codeOf(packet) ?? 0]), [...Array.from({ length: 5 }, () => ['puback', 0]), ['disconnect', 0x8b]], 'MQTT 5: five PUBACKs, then server shutting down');
    t.same(four.packets.map((packet) => packet.cmd), ['puback', 'puback', 'puback', 'puback', 'puback'], 'MQTT 3.1.1: five PUBACKs');
    t.ok(await five.closedWithin(2000));
    t.ok(await four.closedWithin(2000));
    t.equal((await ctx.staged('stopping')).length, 10, 'every acknowledged message is staged');
  });
});
