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
  const clients = await Promise.all(
    Array.from({ length: CONNECTIONS }, (_, index) =>
      mqtt.connectAsync(ctx.url, { protocolVersion: index % 2 === 0 ? 5 : 4, reconnectPeriod: 0, username: ctx.tenant.apiKey, clientId: `load-${index}` }),
    ),
  );
  t.teardown(() => Promise.all(clients.map((client) => client.endAsync(true))));
  t.equal(await ctx.metric('strata_mqtt_connections', 'state="connected"'), CONNECTIONS, 'every connection counted');

  const started = Date.now();
  let acknowledged = 0;
  await Promise.all(
    clients.map(async (client, c) => {
      const publishes: Promise<unknown>[] = [];
      for (let m = 0; m < PER_CONNECTION; m++) {
        const n = c * PER_CONNECTION + m;
        const payload = JSON.stringify({ id: `m${n}`, ts: base + n, values: { n } });
        publishes.push(client.publishAsync(`v1/devices/load-${c % 20}/telemetry`, payload, { qos: 1 }).then(() => acknowledged++));
      }
      await Promise.all(publishes);
    }),
  );
  t.equal(acknowledged, TOTAL, `every message acknowledged (${Date.now() - started} ms)`);
  t.equal(await ctx.metric('strata_mqtt_messages_total', 'outcome="accepted"'), TOTAL);

  const deadline = Date.now() + 60_000;
  let stored = { n: 0, distinct: 0 };
  while (Date.now() < deadline) {
    const result = await ctx.db.query<{ n: number; distinct: number }>(
      'SELECT count(*)::int AS n, count(DISTINCT event_key)::int AS distinct FROM events WHERE tenant_id = $1',
      [ctx.tenant.tenant],
    );
    stored = result.rows[0] ?? stored;
    if (stored.n >= TOTAL) break;
    await sleep(200);
  }
  t.same(stored, { n: TOTAL, distinct: TOTAL }, 'all in history, none twice');
  const sums = await ctx.db.query<{ total: string }>(`SELECT sum(("values"->>'n')::bigint)::text AS total FROM events WHERE tenant_id = $1`, [ctx.tenant.tenant]);
  t.equal(sums.rows[0]?.total, String((TOTAL * (TOTAL - 1)) / 2), 'each message its own values');
});
