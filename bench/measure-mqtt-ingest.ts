import { telemetryPayload } from './event-bodies.ts';
import { DEVICES } from './measure-batch-ingest.ts';
import { runMqttLoad } from './mqtt-load.ts';
import { sampleBacklog, type Backlog } from './sample-backlog.ts';
import type { BenchStack } from './start-bench-stack.ts';
import { waitUntilDrained } from './wait-until-projected.ts';

export const MQTT_CONNECTIONS = 100;
export const MQTT_EVENTS_PER_MESSAGE = 20;
/** 100 connections × 2 messages × 20 events: the 4,000 events in flight of the batch phase (8 × 500). */
export const MQTT_IN_FLIGHT = 2;
const DEVICES_PER_CONNECTION = DEVICES / MQTT_CONNECTIONS;

export interface MqttIngest {
  /** PUBACKed events over the time until the last PUBACK. */
  acceptedEventsPerSec: number;
  /** Accepted and visible in history: acknowledged events over the time until staging drained. */
  endToEndEventsPerSec: number;
  acknowledged: number;
  messages: number;
  /** Publish → PUBACK, per acknowledged message. */
  publishP50Ms: number;
  publishP99Ms: number;
  /** Messages refused by a PUBACK reason code, and messages never answered. */
  refused: number;
  unanswered: number;
  /** Connections closed during the load, and the first error any connection saw. */
  closedConnections: number;
  firstError?: string;
  drainMs: number;
  backlog: Backlog;
  window: { fromMs: number; toMs: number };
}

/**
 * QoS 1 telemetry over MQTT_CONNECTIONS connections, as fast as PUBACKs come, for `durationS`. Each
 * message is MQTT_EVENTS_PER_MESSAGE buffered readings of the topic's device, as firmware that
 * samples often and publishes now and then sends them. Each connection publishes for its own 100 of
 * the batch phase's 10k devices in turn (as a gateway or a LoRaWAN network server does, one topic per
 * device): with one device per connection the projection would update 100 devices instead of 10k and
 * the ratio to the batch phase would flatter MQTT.
 */
export async function measureMqttIngest(stack: BenchStack, durationS: number, run: number): Promise<MqttIngest> {
  const phase = `mqtt${run}`;
  // A message's oldest reading is stamped MQTT_EVENTS_PER_MESSAGE ms before it is sent; the previous
  // phase's last event is at least a second older (waitUntilSettled).
  const fromMs = Date.now() - MQTT_EVENTS_PER_MESSAGE;
  const sampler = sampleBacklog(stack.db, stack.redis, stack.queueKey);
  const load = await runMqttLoad({
    url: stack.mqttUrl,
    apiKey: stack.apiKey,
    connections: MQTT_CONNECTIONS,
    inFlight: MQTT_IN_FLIGHT,
    durationS,
    clientPrefix: `bench-${phase}`,
    next: (n, connection, k) => ({
      topic: `v1/devices/m-${connection + MQTT_CONNECTIONS * (k % DEVICES_PER_CONNECTION)}/telemetry`,
      payload: telemetryPayload(phase, n, MQTT_EVENTS_PER_MESSAGE),
      events: MQTT_EVENTS_PER_MESSAGE,
    }),
  });
  const toMs = Date.now();
  const drainedAt = await waitUntilDrained(stack.db, 600_000);
  const backlog = await sampler.stop();
  return {
    acceptedEventsPerSec: load.acknowledgedEvents / load.durationS,
    endToEndEventsPerSec: load.acknowledgedEvents / ((drainedAt - load.startedAt) / 1000),
    acknowledged: load.acknowledgedEvents,
    messages: load.messages,
    publishP50Ms: load.p50Ms,
    publishP99Ms: load.p99Ms,
    refused: load.refused,
    unanswered: load.unanswered,
    closedConnections: load.closed,
    ...(load.firstError ? { firstError: load.firstError } : {}),
    drainMs: Math.max(0, drainedAt - load.lastAnswerAt),
    backlog,
    window: { fromMs, toMs },
  };
}
