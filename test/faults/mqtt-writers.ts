import { setTimeout as sleep } from 'node:timers/promises';
import mqtt from 'mqtt';
import type { FaultEvent } from './workload.ts';
import type { WriteLog } from './writers.ts';

export interface MqttWriterOptions {
  url: () => string;
  apiKey: string;
  events: FaultEvent[];
  /** Device connections publishing at once (half MQTT 5, half MQTT 3.1.1). */
  connections: number;
  /** Messages a connection has unacknowledged at most. */
  inFlight: number;
  /** Pause between a connection's publishes. */
  delayMs: number;
  /** A message not acknowledged after this long is given up (and counted as unacknowledged). */
  giveUpAfterMs: number;
}

/**
 * Devices publishing each event as one QoS 1 message on its device's topic. MQTT.js keeps a message
 * until its PUBACK and sends it again after reconnecting, as device firmware does, so a message is
 * acknowledged (in the log, for the oracle) only once its PUBACK has arrived.
 */
export async function runMqttWriters(options: MqttWriterOptions, log: WriteLog): Promise<void> {
  let next = 0;
  const writer = async (index: number): Promise<void> => {
    const client = mqtt.connect(options.url(), {
      protocolVersion: index % 2 === 0 ? 5 : 4,
      clientId: `fault-device-${index}`,
      username: options.apiKey,
      reconnectPeriod: 200,
      connectTimeout: 5000,
    });
    client.on('error', () => undefined);
    client.on('close', () => log.count('connection-error'));
    const pending = new Set<Promise<void>>();
    try {
      for (;;) {
        while (pending.size >= options.inFlight) await Promise.race(pending);
        const event = options.events[next++];
        if (!event) break;
        const sent = publish(client, event, options.giveUpAfterMs, log).finally(() => pending.delete(sent));
        pending.add(sent);
        if (options.delayMs > 0) await sleep(options.delayMs);
      }
      await Promise.all(pending);
    } finally {
      await client.endAsync(true);
    }
  };
  await Promise.all(Array.from({ length: options.connections }, (_, index) => writer(index)));
}

/** One event until it is acknowledged; a negative PUBACK (MQTT 5) is counted and the event sent again. */
async function publish(client: mqtt.MqttClient, event: FaultEvent, giveUpAfterMs: number, log: WriteLog): Promise<void> {
  const deadline = Date.now() + giveUpAfterMs;
  const payload = JSON.stringify(event);
  while (Date.now() < deadline) {
    const answer = await Promise.race([
      client.publishAsync(`v1/devices/${event.device}/telemetry`, payload, { qos: 1 }).then(
        () => 'puback',
        (error: { code?: number }) => `mqtt-0x${(error.code ?? 0).toString(16)}`,
      ),
      sleep(Math.max(0, deadline - Date.now())).then(() => 'timeout'),
    ]);
    if (answer === 'timeout') break;
    log.count(answer);
    if (answer === 'puback') {
      log.acked.set(event.id, event);
      return;
    }
    await sleep(100);
  }
  log.givenUp++;
}
