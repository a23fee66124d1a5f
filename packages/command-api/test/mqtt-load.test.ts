import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import mqtt from 'mqtt';
import { startInProcessProjector } from '@strata/testkit';
import { startMqttTestApp } from './mqtt-harness.ts';

const CONNECTIONS = 100;
const PER_CONNECTION = 100;
const TOTAL = CONNECTIONS * PER_CONNECTION;

t.test(`${TOTAL} QoS 1 messages over ${CONNECTIONS} connections are stored exactly once`, async (t) => {
  const ctx = await startMqttTestApp(t, { ingestMaxWaitMs: 2, retentionDays: 30 });
  await startInProcessProjector(t, ctx.config);
  const base = Date.now() - 3_600_000;
  // Clients as devices run them: a connection the server ends (an MQTT 3.1.1 client's only answer to a
  // message it could not store now, e.g. a write refused while a loaded machine lags) is reopened and
  // the unacknowledged QoS 1 messages are sent again; ids make the resends harmless. Without it a
  // closed connection left its messages unanswered until tap's timeout (seen in CI under load).
  const closes: string[] = [];
  const clients = await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, index) => {
      const client = await mqtt.connectAsync(ctx.url, { protocolVersion: index % 2 === 0 ? 5 : 4, reconnectPeriod: 100, username: ctx.tenant.apiKey, clientId: `load-${index}` });
      client.on('disconnect', (packet) => closes.push(`load-${index}: DISCONNECT ${packet.reasonCode ?? ''} ${packet.properties?.reasonString ?? ''}`));
      client.on('close', () => closes.push(`load-${index}: closed`));
      return client;
    }),
  );
  t.teardown(() => Promise.all(clients.map((client) => client.endAsync(true))));
  t.equal(await ctx.metric('strata_mqtt_connections', 'state="connected"'), CONNECTIONS, 'every connection counted');

  const started = Date.now();
  let acknowledged = 0;
  const refused: string[] = [];
  const publishing = Promise.all(
    clients.map(async (client, c) => {
      const publishes: Promise<unknown>[] = [];
      for (let m = 0; m < PER_CONNECTION; m++) {
        const n = c * PER_CONNECTION + m;
        const payload = JSON.stringify({ id: `m${n}`, ts: base + n, values: { n } });
        publishes.push(
          client.publishAsync(`v1/devices/load-${c % 20}/telemetry`, payload, { qos: 1 }).then(
            () => acknowledged++,
            (error: unknown) => refused.push(`m${n}: ${(error as Error).message}`),
          ),
        );
      }
      await Promise.all(publishes);
    }),
  );
  // A message left unanswered fails here, with what the server said, not at tap's timeout.
  const stopWatching = new AbortController();
  const watchdog = sleep(60_000, undefined, { signal: stopWatching.signal }).then(() => 'timed out' as const, () => 'done' as const);
  const outcome = await Promise.race([publishing.then(() => 'done' as const), watchdog]);
  stopWatching.abort();
  const outcomes = await ctx.metric('strata_mqtt_messages_total');
  const accepted = await ctx.metric('strata_mqtt_messages_total', 'outcome="accepted"');
  const diagnosis = `${acknowledged} acknowledged, ${refused.length} refused (${refused.slice(0, 3).join('; ')}), ${closes.length} closes (${closes.slice(0, 3).join('; ')}), server outcomes ${outcomes} of which accepted ${accepted}`;
  t.equal(outcome, 'done', `every publish answered within 60 s: ${diagnosis}`);
  t.equal(acknowledged, TOTAL, `every message acknowledged (${Date.now() - started} ms)`);
  t.same(refused, [], 'none refused for good');
  t.comment(`connections ended by the server and reopened: ${closes.length}${closes.length > 0 ? ` (${closes.slice(0, 5).join('; ')})` : ''}`);
  // Each message accepted once, or more often when its connection was reopened before its PUBACK.
  if (closes.length === 0) t.equal(accepted, TOTAL, 'each message accepted once');
  else t.ok(accepted >= TOTAL, `each message accepted at least once (${accepted}; resent after a reconnect)`);

  const deadline = Date.now() + 60_000;
  let stored = { n: 0, distinct: 0 };
  while (Date.now() < deadline) {
    const result = await ctx.db.query<{ n: number; distinct: number }>(
      'SELECT count(*)::int AS n, count(DISTINCT event_key)::int AS distinct FROM tenant_events WHERE tenant_id = $1',
      [ctx.tenant.tenant],
    );
    stored = result.rows[0] ?? stored;
    if (stored.n >= TOTAL) break;
    await sleep(200);
  }
  t.same(stored, { n: TOTAL, distinct: TOTAL }, 'all in history, none twice');
  const sums = await ctx.db.query<{ total: string }>(`SELECT sum(("values"->>'n')::bigint)::text AS total FROM tenant_events WHERE tenant_id = $1`, [ctx.tenant.tenant]);
  t.equal(sums.rows[0]?.total, String((TOTAL * (TOTAL - 1)) / 2), 'each message its own values');
});
